// The thread's "1.0 and later" update on real socket.io 4.8.4 and socket.io-client 4.8.4.
//
// Stack Overflow 13745519, "Send custom data along with handshakeData in socket.io?", accepted
// answer, "1.0 and later" part. Between the `server` markers are the answer's lines, verbatim,
// comments included. Everything else is harness. Run from the repository root after
// `make originals`:
//
//     node examples/original_thread/middleware.js
//
// Its output is examples/original_thread/middleware.out.txt (tests/test_examples.py checks it).
'use strict';

var http = require('http');
var path = require('path');
var util = require('util');

var ORIGINALS = path.join(__dirname, '../../originals/v4/node_modules');
var Server = require(path.join(ORIGINALS, 'socket.io')).Server;
var client = require(path.join(ORIGINALS, 'socket.io-client'));

// The client adds a random cache-buster `t`: mask it, so that the output is the same on every
// run. Nothing else is changed in what the answer's console.log prints.
var print = console.log;
console.log = function () {
  print(util.format.apply(util, arguments).replace(/\bt: '[^']*'/g, "t: '…'"));
};

function answer(io) {
  // --8<-- [start:server]
  io.use(function(socket, next){
      console.log("Query: ", socket.handshake.query);
      // return the result of next() to accept the connection.
      if (socket.handshake.query.foo == "bar") {
          return next();
      }
      // call next() with an Error if you need to reject the connection.
      next(new Error('Authentication error'));
  });
  // --8<-- [end:server]
}

// The answer's client, `io("http://127.0.0.1:3000/", { query: "foo=bar" })`, on the harness's
// port; without reconnection, so that a refused client gives up at once, and with a new
// connection each time, so that the second client does not reuse the first one's query.
function connect(url, query) {
  return new Promise(function (resolve) {
    var socket = client.io(url, { query: query, reconnection: false, forceNew: true });
    socket.on('connect', function () {
      print('client (' + query + '): connect');
      socket.disconnect();
      resolve();
    });
    socket.on('connect_error', function (err) {
      print('client (' + query + '): connect_error ' + err.message);
      resolve();
    });
  });
}

async function main() {
  var server = http.createServer();
  var io = new Server(server);
  answer(io);
  await new Promise(function (resolve) { server.listen(0, '127.0.0.1', resolve); });
  var url = 'http://127.0.0.1:' + server.address().port + '/';
  await connect(url, 'foo=bar');
  await connect(url, 'foo=baz');
  await new Promise(function (resolve) { io.close(resolve); });
}

main();
