"use strict";
// What socket.io-client 0.9.16 sees when a real Socket.IO 0.9.19 server refuses it, and what it
// does next: after a 403 it stays "connecting" for good (socket.io-client#506); after a 500 it
// can try again; a namespace refused by its authorization gets 'connect_failed'.
//   node originals/v0.9/client-refused.js   (the output is client-refused.out.txt)
var http = require("http");
var sio = require("socket.io");
var io = require("socket.io-client");
var auth = require("./auth");

var sleep = function (ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); };
var handshakes = 0;  // HTTP handshakes the server's authorization function ran for

/** A 0.9 server on a free loopback port whose authorization is `authorization`. */
function serve(authorization) {
  return new Promise(function (resolve) {
    var server = http.createServer();
    // 'client store expiration' 0: no 15 s timer keeps this script alive after its last line
    var manager = sio.listen(server, { log: false, "client store expiration": 0 });
    manager.set("authorization", function (handshakeData, callback) {
      handshakes += 1;
      authorization(handshakeData, callback);
    });
    manager.of("/admin").authorization(auth.adminAuthorization);
    manager.of("/admin").on("connection", function () {});
    server.listen(0, "127.0.0.1", function () {
      resolve({ server: server, url: "http://127.0.0.1:" + server.address().port });
    });
  });
}

/** Every event the 0.9 client has for a failed connection, for `ms`, as "name(args)". */
function events(socket, ms) {
  var seen = [];
  ["connect", "connecting", "connect_failed", "error", "reconnecting", "reconnect_failed"]
    .forEach(function (name) {
      socket.on(name, function () {
        seen.push(name + "(" + [].map.call(arguments, function (a) {
          return JSON.stringify(a);
        }).join(", ") + ")");
      });
    });
  return sleep(ms).then(function () { return seen.join(", ") || "nothing"; });
}

async function main() {
  console.log("-- callback(null, false): HTTP 403 'handshake unauthorized'");
  var served = await serve(auth.authorization);  // the app's function (auth.js)
  var url = served.url + "/?username=alice&password=looking-glass";
  // --8<-- [start:refused]
  var socket = io.connect(url);
  socket.on("error", function (reason) {
    // "handshake unauthorized" (403) or "handshake error" (500):
    // all that the client learns
  });
  // --8<-- [end:refused]
  console.log("events: " + await events(socket, 300));
  console.log("socket.socket.connecting: " + socket.socket.connecting);
  var before = handshakes;
  socket.socket.connect();  // does nothing: it is still "connecting"
  await sleep(300);
  console.log("socket.socket.connect(): " + (handshakes - before) + " new handshakes");
  var again = io.connect(url);  // the same stuck socket, unless 'force new connection'
  await sleep(300);
  console.log("io.connect(url) again: the same socket: " + (again.socket === socket.socket)
    + ", " + (handshakes - before) + " new handshakes");

  console.log("-- callback(err): HTTP 500 'handshake error'");
  served.server.close();
  served = await serve(function (handshakeData, callback) { callback(new Error("db down")); });
  socket = io.connect(served.url);
  console.log("events: " + await events(socket, 300));
  console.log("socket.socket.connecting: " + socket.socket.connecting);
  before = handshakes;
  socket.socket.connect();
  await sleep(300);
  console.log("socket.socket.connect(): " + (handshakes - before) + " new handshake");

  console.log("-- a namespace refused: /admin's authorization answers callback(null, false)");
  served.server.close();
  served = await serve(auth.authorization);
  url = served.url + "/admin?username=alice&password=wonderland";  // alice is no admin
  socket = io.connect(url);
  console.log("/admin events: " + await events(socket, 300));
  socket.socket.disconnect();
  served.server.close();
}

main();
