// The thread's "3.x and later" update on real socket.io 4.8.4 and socket.io-client 4.8.4.
//
// Stack Overflow 13745519, "Send custom data along with handshakeData in socket.io?", accepted
// answer, "Update: 3.x and later" part. Between the `server` markers are the answer's lines,
// verbatim (its missing semicolons included). Between the `refusing` markers is NOT the answer:
// the same middleware made to refuse any token but "AuthToken", as the 1.0 part refuses any
// foo but "bar". Everything else is harness. Run from the repository root after
// `make originals`:
//
//     node examples/original_thread/auth.js
//
// Its output is examples/original_thread/auth.out.txt (tests/test_examples.py checks it).
'use strict';

var http = require('http');
var path = require('path');
var util = require('util');

var ORIGINALS = path.join(__dirname, '../../originals/v4/node_modules');
var Server = require(path.join(ORIGINALS, 'socket.io')).Server;
var client = require(path.join(ORIGINALS, 'socket.io-client'));

function answer(io) {
  // --8<-- [start:server]
  io.use(function(socket, next){
      console.log(socket.handshake.auth.token)
      next()
  });
  // --8<-- [end:server]
}

function refusing(io) {
  // --8<-- [start:refusing]
  io.use(function(socket, next){
      console.log(socket.handshake.auth.token)
      if (socket.handshake.auth.token == "AuthToken") {
          return next();
      }
      next(new Error('Authentication error'));
  });
  // --8<-- [end:refusing]
}

// The answer's client, `io.connect("http://127.0.0.1:3000/", { auth: { token: "AuthToken" } })`,
// on the harness's port, without reconnection so that a refused client gives up at once.
// With `auth` undefined, a client that sends no auth payload at all.
function connect(url, auth) {
  var options = { reconnection: false, forceNew: true };
  if (auth !== undefined) options.auth = auth;
  var name = auth === undefined ? 'no auth' : 'auth: ' + util.inspect(auth);
  return new Promise(function (resolve) {
    var socket = client.connect(url, options);
    socket.on('connect', function () {
      console.log('client (' + name + '): connect');
      socket.disconnect();
      resolve();
    });
    socket.on('connect_error', function (err) {
      console.log('client (' + name + '): connect_error ' + err.message);
      resolve();
    });
  });
}

async function serve(configure, run) {
  var server = http.createServer();
  var io = new Server(server);
  configure(io);
  await new Promise(function (resolve) { server.listen(0, '127.0.0.1', resolve); });
  await run('http://127.0.0.1:' + server.address().port + '/');
  await new Promise(function (resolve) { io.close(resolve); });
}

async function main() {
  console.log("-- the answer's server, verbatim: it logs the token and accepts everyone");
  await serve(answer, async function (url) {
    await connect(url, { token: 'AuthToken' });
    await connect(url, undefined);
  });

  console.log('-- not in the answer: the same middleware refusing any token but "AuthToken"');
  await serve(refusing, async function (url) {
    await connect(url, { token: 'AuthToken' });
    await connect(url, { token: 'WrongToken' });
  });
}

main();
