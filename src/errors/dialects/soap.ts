import { Type } from '../../plugin/schema-type.ts';
import { definePlugin } from '../../plugin/plugin.ts';
import { deliveryFields, failureStatus, summariseDetails, type ErrorRenderer } from './dialect.ts';

export type SoapVersion = '1.1' | '1.2';

const ENVELOPE: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

const escape = (text: string) =>
  text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/**
 * A SOAP Fault (SOAP 1.1 §4.4, SOAP 1.2 Part 1 §5.4) for a caller that sent a SOAP body (issue 16.4): a SOAP
 * client cannot read the JSON dialects. The fault code says whose fault it is (Client/Sender for the
 * caller's hop, Server/Receiver for every other); the detail carries the gateway's code, hop and request id.
 * The HTTP status stays the error's own, as in every dialect.
 */
export function soapFaultRenderer(requested: SoapVersion): ErrorRenderer {
  const version: SoapVersion = requested === '1.2' ? '1.2' : '1.1'; // built without the loader: 1.1
  return (err, ctx) => {
    const caller = err.hop === 'caller';
    const reason = escape(summariseDetails(err));
    const { trackingId, deliveryState } = deliveryFields(err);
    const detail =
      `<GatewayError xmlns="urn:lgsp-gateway:error"><Code>${err.code}</Code><Hop>${err.hop}</Hop>` +
      `<RequestId>${escape(ctx.requestId)}</RequestId>` +
      (trackingId === undefined ? '' : `<TrackingId>${escape(trackingId)}</TrackingId>`) +
      (deliveryState === undefined ? '' : `<DeliveryState>${escape(deliveryState)}</DeliveryState>`) +
      `</GatewayError>`;
    const fault =
      version === '1.1'
        ? `<soap:Fault><faultcode>soap:${caller ? 'Client' : 'Server'}</faultcode><faultstring>${reason}</faultstring>` +
          `<detail>${detail}</detail></soap:Fault>`
        : `<soap:Fault><soap:Code><soap:Value>soap:${caller ? 'Sender' : 'Receiver'}</soap:Value></soap:Code>` +
          `<soap:Reason><soap:Text xml:lang="vi">${reason}</soap:Text></soap:Reason><soap:Detail>${detail}</soap:Detail></soap:Fault>`;
    return {
      status: failureStatus(err),
      contentType: version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8',
      body:
        `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ENVELOPE[version]}">` +
        `<soap:Body>${fault}</soap:Body></soap:Envelope>`,
    };
  };
}

/** `errorDialect: { name: soap, options: { version: '1.2' } }` for a route whose callers all speak SOAP. */
export const soapDialect = definePlugin(
  Type.Object({ version: Type.Enum(['1.1', '1.2'], { default: '1.1' }) }, { additionalProperties: false }),
  (options): ErrorRenderer => soapFaultRenderer(options.version as SoapVersion),
);
