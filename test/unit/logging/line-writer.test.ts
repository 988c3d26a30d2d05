import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLineWriter, createLogger, flushLines } from '../../../src/logging/logger.ts';

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
  });
  return { stream, lines };
}

describe('logging: access line writer', () => {
  const fields = {
    requestId: 'req-001099012345',
    route: 'ndxp-all',
    consumer: undefined,
    path: '/ndxp/x?so=0912345678',
    status: 200,
    bytes: 2048,
    durationMs: 1.25,
  };

  it('writes the same masked fields as logger.info, plus level, message and timestamp', () => {
    const fast = capture();
    const slow = capture();
    const fastLogger = createLogger({ stream: fast.stream });
    createLineWriter(fastLogger, 'access')(fields);
    expect(fast.lines, 'lines of one event-loop turn are batched').to.have.length(0);
    flushLines(fastLogger);
    createLogger({ stream: slow.stream }).info('access', fields);
    expect(fast.lines).to.have.length(1);
    const { timestamp: t1, ...a } = fast.lines[0];
    const { timestamp: t2, ...b } = slow.lines[0];
    expect(a).to.deep.equal(b);
    expect(a.requestId).to.equal('req-[ID12]');
    expect(a.path).to.equal('/ndxp/x?so=[PHONE]');
    expect(a).not.to.have.property('consumer');
    expect(Number.isNaN(Date.parse(t1 as string))).to.equal(false);
    expect(t2).to.be.a('string');
  });

  it('writes nothing when info is disabled (level changed after creation) or the logger is silent', () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream });
    const write = createLineWriter(logger, 'access');
    logger.level = 'warn';
    write(fields);
    logger.level = 'info';
    logger.silent = true;
    write(fields);
    expect(out.lines).to.deep.equal([]);
  });

  it('goes through winston for loggers it does not know', () => {
    const out = capture();
    const logger = winston.createLogger({
      format: winston.format.json(),
      transports: [new winston.transports.Stream({ stream: out.stream })],
    });
    createLineWriter(logger, 'access')({ status: 201 });
    expect(out.lines).to.deep.equal([{ level: 'info', message: 'access', status: 201 }]);
  });

  it('with flushMs, access lines of several turns are written together once the window ends', async () => {
    const out = capture();
    const logger = createLogger({ stream: out.stream, flushMs: 5 });
    const write = createLineWriter(logger, 'access');
    write({ status: 200 });
    await new Promise((resolve) => setImmediate(resolve));
    write({ status: 201 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines).to.deep.equal([]);
    await new Promise((resolve) => out.stream.once('data', resolve));
    expect(out.lines.map((l) => l.status)).to.deep.equal([200, 201]);
  });
});
