import { GatewayError } from '../../errors/gateway-error.ts';
import { requestFraming } from '../../upstream/framing.ts';
import { pathRefusal, queryRefusal } from '../../routing/path-confinement.ts';
import type { Exchange } from '../exchange.ts';
import { soapFaultRenderer } from '../../errors/dialects/soap.ts';
import { isXmlContentType } from '../read-body.ts';

/**
 * Finds the route (and with it the plan every later stage follows), after the path and query are
 * confined; decides the body's framing before anything reads it. Errors from here on are in the route's
 * dialect.
 */
export function match(ex: Exchange): void {
  const { runtime, req, path, record } = ex;
  // Before matching: a path any upstream server could resolve elsewhere is never forwarded (13.2).
  const refusal = pathRefusal(path) ?? queryRefusal(ex.query.slice(1));
  if (refusal) {
    // Answered in the dialect of the route the path would match, when there is one.
    const target = runtime.routes.match(record.method, path, req.headers);
    if (target.kind === 'route') ex.render = target.route.render;
    throw new GatewayError('GW_PATH_NOT_ALLOWED', { reason: refusal });
  }
  const found = runtime.routes.match(record.method, path, req.headers);
  if (found.kind === 'none') throw new GatewayError('GW_ROUTE_NOT_FOUND', { method: record.method, path });
  if (found.kind === 'method') {
    const allow = found.allow.join(', ');
    throw new GatewayError('GW_METHOD_NOT_ALLOWED', { method: record.method, path, allow }, { headers: { allow } });
  }
  const { route } = found;
  ex.route = route;
  ex.params = found.params;
  ex.render = route.render;
  // A SOAP caller (a route that takes XML, a body labelled XML) reads the gateway's errors as SOAP Faults.
  const type = req.headers['content-type'];
  if (route.plan.accepts.xml && isXmlContentType(type)) {
    ex.render = soapFaultRenderer(/^\s*application\/soap\+xml/i.test(type!) ? '1.2' : '1.1');
  }
  if ((route.pattern.paramNames.length > 0 || route.pattern.hasWildcard) && runtime.caseShadow) {
    if (runtime.caseShadow(record.method, path, req.headers, route)) {
      throw new GatewayError('GW_PATH_NOT_ALLOWED', {
        reason: 'đường dẫn chỉ khác đường dẫn của một tuyến khác ở chữ hoa/thường',
      });
    }
  }
  record.route = route.id;
  record.routeConfig = route.config;
  record.upstream = route.upstream.id;
  ex.ctx.hooks?.onInFlight?.(route.id, 1);
  // Before anything else reads the body: a message a desync attack would send is refused here.
  ex.framing = requestFraming(req);
}
