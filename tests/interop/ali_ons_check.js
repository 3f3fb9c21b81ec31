// Talks to a polywire RocketMQ server with ali-ons, a RocketMQ remoting client written by
// others in JavaScript (npm). Usage: node ali_ons_check.js --addr 127.0.0.1:PORT
// Exits non-zero on the first failed check; every step is bounded by a timeout.
'use strict';

const MQClientAPI = require('ali-ons/lib/mq_client_api');
const RemotingCommand = require('ali-ons/lib/protocol/command/remoting_command');

const addr = process.argv[process.argv.indexOf('--addr') + 1];
if (!addr || addr.startsWith('--')) {
  console.error('usage: node ali_ons_check.js --addr HOST:PORT');
  process.exit(2);
}
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const T = 5000;

function check(cond, what) {
  if (!cond) {
    throw new Error('check failed: ' + what);
  }
  console.log('ok   ' + what);
}

async function main() {
  const api = new MQClientAPI({ nameSrv: [ addr ], httpclient: {}, logger: quiet, responseTimeout: T });
  await api.ready();
  try {
    // 1. Route lookup exactly as an ali-ons producer does it, parsed by ali-ons.
    const route = await api.getTopicRouteInfoFromNameServer('TopicTest', T);
    check(route.brokerDatas.length === 1 && route.brokerDatas[0].brokerAddrs['0'] === addr,
      'GET_ROUTEINFO_BY_TOPIC: ali-ons parses the route, broker at ' + route.brokerDatas[0].brokerAddrs['0']);
    check(route.queueDatas[0].readQueueNums === 4, 'route queue data readQueueNums = 4');

    // 2. Echo (code 2001) with custom header fields, numbers among them, and a body.
    const echo = RemotingCommand.createRequestCommand(2001, { topic: 'TopicTest', queueId: 3, flag: true });
    echo.body = Buffer.from('hello from ali-ons');
    const r = await api.invoke(addr, echo, T);
    check(r.code === 0, 'echo: response code 0 (SUCCESS)');
    check(r.opaque === echo.opaque, 'echo: opaque matched (' + r.opaque + ')');
    check(r.isResponseType, 'echo: response flag set');
    check(r.body && r.body.toString() === 'hello from ali-ons', 'echo: body echoed');
    check(r.extFields.topic === 'TopicTest' && String(r.extFields.queueId) === '3',
      'echo: extFields echoed ' + JSON.stringify(r.extFields));

    // 3. Unknown request code: Java's answer.
    const unknown = RemotingCommand.createRequestCommand(10000, {});
    const u = await api.invoke(addr, unknown, T);
    check(u.code === 3, 'unknown code: REQUEST_CODE_NOT_SUPPORTED (3)');
    check(u.remark === ' request type 10000 not supported', 'unknown code: remark "' + u.remark + '"');

    // 4. A oneway request, then a normal one on the same connection still works.
    await api.invokeOneway(addr, RemotingCommand.createRequestCommand(2001, { oneway: 'yes' }));
    const again = await api.invoke(addr, RemotingCommand.createRequestCommand(2001, {}), T);
    check(again.code === 0, 'oneway sent; the connection keeps serving');

    // 5. Many requests in flight on one connection, matched by opaque.
    const many = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const c = RemotingCommand.createRequestCommand(2001, { i });
      c.body = Buffer.from('n' + i);
      return api.invoke(addr, c, T).then(resp => resp.body.toString() === 'n' + i);
    }));
    check(many.every(Boolean), '200 concurrent requests answered, each with its own body');
  } finally {
    await api.close();
  }
}

const guard = setTimeout(() => {
  console.error('timed out');
  process.exit(1);
}, 30000);
main().then(() => {
  clearTimeout(guard);
  console.log('all ali-ons checks passed');
  process.exit(0);
}, e => {
  console.error(e && e.stack || e);
  process.exit(1);
});
