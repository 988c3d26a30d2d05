/**
 * The registry of every error the gateway itself produces. Codes are stable English identifiers;
 * messages are Vietnamese templates with `{name}` placeholders filled from the error's params.
 * `hop` says which hop failed, so an admin knows whom to call (seed 003, common error 3).
 * test/unit/error-codes.test.ts fails when a code here is not documented in README.md.
 */
export type Hop = 'caller' | 'gateway' | 'token-endpoint' | 'upstream' | 'audit';

export interface ErrorCodeSpec {
  readonly status: number;
  readonly hop: Hop;
  readonly message: string;
}

export const errorCodes = {
  GW_ROUTE_NOT_FOUND: { status: 404, hop: 'caller', message: 'Không có tuyến nào cho {method} {path}' },
  GW_METHOD_NOT_ALLOWED: {
    status: 405,
    hop: 'caller',
    message: 'Tuyến {path} không nhận phương thức {method}; chỉ nhận: {allow}',
  },
  GW_UNAUTHENTICATED: {
    status: 401,
    hop: 'caller',
    message: 'Chưa xác thực hệ thống gọi: {reason}',
  },
  GW_FORBIDDEN: { status: 403, hop: 'caller', message: 'Hệ thống {consumer} không được phép dùng tuyến {route}' },
  // The old civil-status API answered error 101 "IP not allowed" (domain.md §4): same idea, own code.
  GW_IP_NOT_ALLOWED: {
    status: 403,
    hop: 'caller',
    message: 'Địa chỉ {ip} không nằm trong danh sách địa chỉ được phép của hệ thống {consumer}',
  },
  GW_CLIENT_CERT_MISMATCH: {
    status: 403,
    hop: 'caller',
    message: 'Hệ thống {consumer} phải gọi qua TLS hai chiều với chứng thư số {expected}',
  },
  GW_RATE_LIMITED: {
    status: 429,
    hop: 'caller',
    message: 'Vượt hạn mức gọi của {consumer} trên tuyến {route}; thử lại sau {retryAfter} giây',
  },
  GW_PAYLOAD_TOO_LARGE: { status: 413, hop: 'caller', message: 'Dữ liệu gửi lên vượt giới hạn {limit} byte' },
  // Issue 14.3: a consumer holding its whole share of an upstream's streamed connections waits for its own
  // calls; the other consumers' share stays free.
  GW_UPSTREAM_SHARE_EXCEEDED: {
    status: 429,
    hop: 'caller',
    message: 'Hệ thống {consumer} đang dùng hết {limit} kết nối truyền luồng được phép tới {upstream}; thử lại sau',
  },
  GW_UPLOAD_TOO_SLOW: {
    status: 408,
    hop: 'caller',
    message: 'Dữ liệu gửi lên quá chậm: dưới {minBytesPerSecond} byte/giây trong {windowMs} ms',
  },
  GW_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    hop: 'caller',
    message: 'Tuyến {route} chỉ nhận Content-Type {accepted} (nhận được: {contentType})',
  },
  // Issue 16.4: an XML body skips the JSON stages on the strength of its label, so the label must hold.
  GW_BODY_NOT_XML: {
    status: 400,
    hop: 'caller',
    message: 'Dữ liệu gắn nhãn {contentType} không phải thông điệp XML chấp nhận được: {reason}',
  },
  GW_UNSUPPORTED_BODY_ENCODING: {
    status: 415,
    hop: 'caller',
    message: 'Tuyến {route} không đọc được {header}: {value} (chấp nhận: {accepted})',
  },
  GW_MALFORMED_JSON: { status: 400, hop: 'caller', message: 'JSON không hợp lệ: {reason}' },
  GW_VALIDATION_FAILED: {
    status: 400,
    hop: 'caller',
    // The dialects append the field errors themselves (errors[] or the message string).
    message: 'Dữ liệu không hợp lệ ({count} lỗi)',
  },
  // Issue 16.6: seed 002 binds each C06 account to one officer; a look-up must say who asked.
  GW_OFFICER_REQUIRED: {
    status: 400,
    hop: 'caller',
    message: 'Tuyến {route} cần định danh cán bộ tra cứu (mã cán bộ) trong: {sources}',
  },
  GW_OFFICER_INVALID: { status: 400, hop: 'caller', message: 'Định danh cán bộ trong {source} không hợp lệ: {reason}' },
  // Path confinement (issue 13.2): the reason names the rule and the segment's position, never its text.
  GW_PATH_NOT_ALLOWED: { status: 400, hop: 'caller', message: 'Đường dẫn không được phép: {reason}' },
  GW_BAD_REQUEST: { status: 400, hop: 'caller', message: 'Yêu cầu không hợp lệ: {reason}' },
  // Seed 003: each civil-status module is served by certain API versions only (route `apiVersions`).
  GW_API_VERSION_MISMATCH: {
    status: 400,
    hop: 'caller',
    message: '{field} "{value}" không được phiên bản API {version} phục vụ; phiên bản dùng được: {allowed}',
  },
  // Issue 13.4: the gateway adds its client secret only to grants a citizen stands behind.
  GW_GRANT_NOT_ALLOWED: {
    status: 400,
    hop: 'caller',
    message: 'Cổng không bổ sung thông tin xác thực ứng dụng cho grant_type {grant}; chỉ cho: {allowed}',
  },
  GW_TOKEN_ENDPOINT_FAILED: {
    status: 502,
    hop: 'token-endpoint',
    message: 'Không lấy được token từ điểm cấp token của {upstream}: {reason}',
  },
  GW_UPSTREAM_CONNECT_FAILED: {
    status: 502,
    hop: 'upstream',
    message: 'Không kết nối được tới {upstream}: {reason}',
  },
  GW_UPSTREAM_RESET: {
    status: 502,
    hop: 'upstream',
    message: 'Kết nối tới {upstream} bị ngắt giữa chừng: {reason}',
  },
  GW_UPSTREAM_TIMEOUT: {
    status: 504,
    hop: 'upstream',
    message: '{upstream} không trả lời trong {timeoutMs} ms ({phase})',
  },
  GW_UPSTREAM_TLS: { status: 502, hop: 'upstream', message: 'Lỗi TLS khi kết nối tới {upstream}: {reason}' },
  GW_UPSTREAM_BAD_RESPONSE: {
    status: 502,
    hop: 'upstream',
    message: 'Phản hồi của {upstream} không hợp lệ: {reason}',
  },
  // Issue 16.2: the identification system signs what it returns (seed 001 part C, step B10, §V.2); an
  // answer whose signature does not verify is the national side's answer made untrustworthy on its way.
  GW_UPSTREAM_SIGNATURE_INVALID: {
    status: 502,
    hop: 'upstream',
    message: 'Chữ ký số trên phản hồi của {upstream} không hợp lệ: {reason}',
  },
  GW_UPSTREAM_SIGNING_KEYS_UNAVAILABLE: {
    status: 502,
    hop: 'upstream',
    message: 'Không lấy được khóa công khai để kiểm tra chữ ký của {upstream}: {reason}',
  },
  GW_SERVICE_UNAVAILABLE: { status: 503, hop: 'gateway', message: 'Cổng đang dừng hoặc chưa sẵn sàng: {reason}' },
  // The call is refused before anything is sent upstream: an exchange of citizen data must leave its trace
  // (Decree 47/2020); `audit.onFailure: continue` lets it through instead (issue 14.2).
  GW_AUDIT_UNAVAILABLE: {
    status: 503,
    hop: 'audit',
    message:
      'Không ghi được nhật ký kiểm toán của cổng ({reason}): tạm từ chối trao đổi dữ liệu cho đến khi ghi lại được',
  },
  // Issue 16 item 5.3, seed 003 common error 2: a status query must use the module the dossier was pushed
  // with (LTKT, not KT); the gateway's delivery ledger remembers it, so the mistake is named before the call.
  GW_PUSHED_MODULE_MISMATCH: {
    status: 400,
    hop: 'caller',
    message:
      'Hồ sơ {dossier} đã được gửi với module {pushed}; truy vấn dùng module {queried} — hãy truy vấn với module {pushed}',
  },
  // Delivery operations (issue 17): /admin/deliveries.
  GW_DELIVERY_NOT_FOUND: { status: 404, hop: 'caller', message: 'Không có bản ghi chuyển phát {id}' },
  GW_DELIVERY_CONFLICT: { status: 409, hop: 'caller', message: 'Không thực hiện được {action} cho {id}: {reason}' },
  GW_DELIVERY_STORE_UNAVAILABLE: {
    status: 503,
    hop: 'gateway',
    message: 'Kho chuyển phát của cổng không dùng được ({reason})',
  },
  // Issue 17: not failures but notices of a queued push (HTTP 202), rendered by every dialect with a code
  // that is not its success code (MOLISA error_code 202, NDXP responseCode "202", civil-status status "0"),
  // unless the route's admin configured `delivery.acceptedAnswer`.
  GW_DELIVERY_ACCEPTED: {
    status: 202,
    hop: 'upstream',
    message:
      'Đã nhận để chuyển tới {upstream}, nhưng {upstream} chưa tiếp nhận ({reason}); cổng sẽ tự gửi lại. Mã theo dõi: {trackingId}',
  },
  GW_DELIVERY_DUPLICATE: {
    status: 202,
    hop: 'caller',
    message:
      'Dữ liệu này đã được gửi tới cổng trước đó (mã theo dõi {trackingId}, trạng thái {state}); không chuyển lại lần nữa',
  },
  // The push could not be written durably: nothing was sent, the caller must send again.
  GW_DELIVERY_UNAVAILABLE: {
    status: 503,
    hop: 'gateway',
    message: 'Cổng không lưu được dữ liệu để chuyển đi ({reason}); chưa gửi gì, vui lòng gửi lại sau',
  },
  GW_DELIVERY_BACKLOG_FULL: {
    status: 429,
    hop: 'caller',
    message:
      'Đã có {max} dữ liệu của hệ thống này đang chờ gửi tới {upstream} (delivery.maxPendingPerConsumer); chưa lưu, vui lòng gửi lại sau',
  },
  GW_INTERNAL: { status: 500, hop: 'gateway', message: 'Lỗi nội bộ của cổng LGSP (mã yêu cầu {requestId})' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof errorCodes;

/** Codes that are notices, not failures: dialects render them with their own status (202). */
export const NOTICE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'GW_DELIVERY_ACCEPTED',
  'GW_DELIVERY_DUPLICATE',
]);
