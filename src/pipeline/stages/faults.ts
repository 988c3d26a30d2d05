import type { BodyDecodeFault } from '../body-encoding.ts';

/** Why a body could not be decoded as labelled, in the words of the error messages. */
export function describeFault(fault: BodyDecodeFault): string {
  if (fault.kind === 'too-large') return `dữ liệu sau khi giải nén vượt ${fault.limit} byte`;
  const header = fault.header === 'content-type' ? 'Content-Type' : 'Content-Encoding';
  if (fault.kind === 'unsupported') return `${header}: ${fault.value} không được hỗ trợ (chấp nhận: ${fault.accepted})`;
  return `dữ liệu không giải mã được theo ${header}: ${fault.value}`;
}
