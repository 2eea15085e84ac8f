// The thread's pre-1.0 answer on real socket.io 0.9.19 and its Node.js client 0.9.16.
//
// Stack Overflow 13745519, "Send custom data along with handshakeData in socket.io?"
// (December 2012), accepted answer, "Pre 1.0" part. Between the `server` markers are the
// answer's lines, verbatim. Between the `refusing` markers is NOT the answer: the same
// function made to refuse anything but foo=bar, as examples/original_thread/legacy.py does.
// Everything else is harness. Run from the repository root after `make originals`:
//
//     node examples/original_thread/legacy.js
//
// Its output is examples/original_thread/legacy.out.txt (tests/test_examples.py checks it).
'use strict';

var http = require('http');
var path = require('path');
var util = require('util');

var ORIGINALS = path.join(__dirname, '../../originals/v0.9/node_modules');
var socketio = require(path.join(ORIGINALS, 'socket.io'));
var client = require(path.join(ORIGINALS, 'socket.io-client'));

// The client adds its clock as the cache-buster `t`: mask it, so that the output is the same on
// every run. Nothing else is changed in what the answer's console.log prints.
var print = console.log;
console.log = function () {
  print(util.format.apply(util, arguments).replace(/\bt: '\d+'/g, "t: '…'"));
};

function answer(io) {
  // --8<-- [start:server]
  io.set('authorization', function (handshakeData, cb) {
      console.log('Auth: ', handshakeData.query);
      cb(null, true);
  });
  // --8<-- [end:server]
}

function refusing(io) {
  // --8<-- [start:refusing]
  io.set('authorization', function (handshakeData, cb) {
      console.log('Auth: ', handshakeData.query);
      cb(null, handshakeData.query.foo == 'bar');
  });
  // --8<-- [end:refusing]
}

// A socket.io 0.9 server on a free loopback port, configured by `configure(io)`.
function serve(configure) {
  return new Promise(function (resolve) {
    var server = http.createServer();
    // 'client store expiration': a disconnected client's data is kept 15 s by default, and
    // the timer would keep this script alive that long after its last line.
    var io = socketio.listen(server, { log: false, 'client store expiration': 0 });
    configure(io);
    server.listen(0, '127.0.0.1', function () {
      resolve({ server: server, url: 'http://127.0.0.1:' + server.address().port + '/' });
    });
  });
}

// The answer's client, `io.connect('http://127.0.0.1:3000/', { query: "foo=bar" })`, on the
// harness's port; 'force new connection' so that the second call does not reuse the first socket.
function connect(url, query) {
  return new Promise(function (resolve) {
    var socket = client.connect(url, { query: query, 'force new connection': true });
    socket.on('connect', function () {
      print('client (' + query + '): connect');
      socket.disconnect();
      resolve();
    });
    socket.on('error', function (reason) {
      print('client (' + query + '): error ' + reason);
      resolve();
    });
  });
}

// What the refused client's XHR received, read without the client: status and body.
function handshake(url, query) {
  return new Promise(function (resolve) {
    http.get(url + 'socket.io/1/?' + query, function (res) {
      var body = '';
      res.setEncoding('utf8');
      res.on('data', function (chunk) { body += chunk; });
      res.on('end', function () {
        print('GET /socket.io/1/?' + query + ': HTTP ' + res.statusCode + ' ' + body);
        resolve();
      });
    });
  });
}

function close(served) {
  return new Promise(function (resolve) { served.server.close(resolve); });
}

async function main() {
  print("-- the answer's server, verbatim: it accepts every query");
  var served = await serve(answer);
  await connect(served.url, 'foo=bar');
  await connect(served.url, 'foo=baz');
  await close(served);

  print('-- not in the answer: the same server refusing anything but foo=bar');
  served = await serve(refusing);
  await connect(served.url, 'foo=bar');
  await connect(served.url, 'foo=baz');
  await handshake(served.url, 'foo=baz');
  await close(served);
}

main();
