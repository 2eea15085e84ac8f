"use strict";
// The 0.9.16 client's options and events, on the real packages. When its server goes away, it
// retries 'max reconnection attempts' times (10 by default), the delay doubling from
// 'reconnection delay' up to 'reconnection limit'; then it stops, and with the server down no
// reconnect_failed follows. (4.x: ../v4/client-options.js.)
//   node originals/v0.9/client-options.js   (the output is client-options.out.txt)
var http = require("http");
var sio = require("socket.io");
var client = require("socket.io-client");

var server = http.createServer();
sio.listen(server, { log: false });
var connections = [];
server.on("connection", function (connection) { connections.push(connection); });

server.listen(0, "127.0.0.1", function () {
  // --8<-- [start:options]
  var socket = client.connect("http://127.0.0.1:" + server.address().port, {
    "max reconnection attempts": 3,  // 4.x: reconnectionAttempts (default Infinity)
    "reconnection delay": 20,  // 4.x: reconnectionDelay
    "reconnection limit": 1000,  // 4.x: reconnectionDelayMax
    "connect timeout": 5000,  // 4.x: timeout
    "force new connection": true,  // 4.x: forceNew
  });
  // --8<-- [end:options]
  var defaults = new client.Socket({ "auto connect": false }).options;
  console.log("defaults: " + ["max reconnection attempts", "reconnection delay",
    "reconnection limit", "connect timeout"].map(function (name) {
    return "'" + name + "' " + defaults[name];
  }).join(", "));
  var events = [];
  ["connect", "disconnect", "reconnecting", "reconnect_failed", "connect_failed", "reconnect"]
    .forEach(function (name) {
      socket.on(name, function () {
        events.push(name);
        console.log("event: " + name + (name === "reconnecting" ? " (attempt "
          + arguments[1] + ", next delay " + arguments[0] + " ms)" : ""));
      });
    });
  socket.once("connect", function () {
    console.log("-- the server goes away");
    server.close();
    connections.forEach(function (connection) { connection.destroy(); });
    setTimeout(function () {
      console.log("two seconds later: " + events.filter(function (e) { return e === "reconnecting"; }).length
        + " reconnecting events in all, reconnect_failed: " + (events.indexOf("reconnect_failed") !== -1)
        + ", socket.socket.reconnecting: " + socket.socket.reconnecting);
      process.exit(0);
    }, 2000);
  });
});
