import { EventEmitter } from 'node:events';
import { mock } from 'node:test';
import { expect } from 'chai';
import { watchUpload } from '../../../src/upstream/upload-watch.ts';

/**
 * The minimum upload rate of the streamed path (issue 14.3), on fakes and mocked timers: what a window
 * must bring, and that a window in which the upstream is not reading does not count against the caller.
 */
describe('proxy: upload watch (minimum rate, declared length)', () => {
  const WINDOW = 1000;
  const setup = (framing: { kind: 'length'; length: number } | { kind: 'chunked' } = { kind: 'chunked' }) => {
    const req = Object.assign(new EventEmitter(), { complete: false });
    const destroyed: Error[] = [];
    const sink = Object.assign(new EventEmitter(), {
      writableNeedDrain: false,
      destroy(err?: Error) {
        if (err) destroyed.push(err);
      },
    });
    watchUpload(req, sink, { framing, maxBodyBytes: 10_000, upload: { minBytesPerSecond: 100, windowMs: WINDOW } });
    return { req, sink, destroyed };
  };

  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  it('a window that brought less than minBytesPerSecond × window cuts the upload (GW_UPLOAD_TOO_SLOW)', () => {
    const { req, destroyed } = setup();
    req.emit('data', Buffer.alloc(99));
    mock.timers.tick(WINDOW);
    expect(destroyed.map((e) => (e as { code?: string }).code)).to.deep.equal(['GW_UPLOAD_TOO_SLOW']);
  });

  it('a steady body is never cut, however many windows it takes', () => {
    const { req, destroyed } = setup();
    for (let i = 0; i < 20; i++) {
      req.emit('data', Buffer.alloc(100));
      mock.timers.tick(WINDOW);
    }
    expect(destroyed).to.have.length(0);
  });

  it('bytes sent early do not pay for a later stall (the rate is per window, not on average)', () => {
    const { req, destroyed } = setup();
    req.emit('data', Buffer.alloc(5000));
    mock.timers.tick(WINDOW);
    expect(destroyed).to.have.length(0);
    mock.timers.tick(WINDOW);
    expect(destroyed).to.have.length(1);
  });

  it('a window in which the upstream is not reading (back-pressure) does not count against the caller', () => {
    const { req, sink, destroyed } = setup();
    sink.writableNeedDrain = true;
    for (let i = 0; i < 5; i++) mock.timers.tick(WINDOW);
    expect(destroyed).to.have.length(0);
    sink.writableNeedDrain = false;
    req.emit('data', Buffer.alloc(100));
    mock.timers.tick(WINDOW);
    expect(destroyed).to.have.length(0);
    mock.timers.tick(WINDOW);
    expect(destroyed).to.have.length(1);
  });

  it('stops watching when the body is complete or the upstream request closed', () => {
    const a = setup();
    a.req.complete = true;
    a.req.emit('end');
    mock.timers.tick(WINDOW * 3);
    expect(a.destroyed).to.have.length(0);
    const b = setup();
    b.sink.emit('close');
    mock.timers.tick(WINDOW * 3);
    expect(b.destroyed).to.have.length(0);
  });

  it('more bytes than the declared length, or than the body limit, destroy the upstream request', () => {
    const a = setup({ kind: 'length', length: 10 });
    a.req.emit('data', Buffer.alloc(11));
    expect(a.destroyed[0].message).to.match(/Content-Length/);
    const b = setup();
    b.req.emit('data', Buffer.alloc(10_001));
    expect((b.destroyed[0] as { code?: string }).code).to.equal('GW_PAYLOAD_TOO_LARGE');
  });
});
