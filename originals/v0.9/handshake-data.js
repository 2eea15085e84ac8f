"use strict";
// What real Socket.IO 0.9.19 hands an app: handshakeData as io.set('authorization') receives
// it, from socket.io-client 0.9.16 with the query token=abc (the clock, ports and `issued`
// masked); then what becomes of it: changed in place, it is socket.handshake, one object for
// every namespace of the connection; a replacement passed as callback(null, true, newData) is
// dropped; `issued` is deleted once a socket uses it.
//   node originals/v0.9/handshake-data.js   (the output is handshake-data.out.txt)
var http = require("http");
var util = require("util");
var sio = require("socket.io");
var io = require("socket.io-client");

/** A copy with what changes on every run masked. */
function masked(handshakeData) {
  var copy = Object.assign({}, handshakeData, {
    headers: Object.assign({}, handshakeData.headers,
      { host: handshakeData.headers.host.replace(/:\d+$/, ":<port>") }),
    address: { address: handshakeData.address.address, port: "<port>" },
    time: "<time>",
    query: Object.assign(Object.create(null), handshakeData.query, { t: "<t>" }),
    url: handshakeData.url.replace(/([?&]t=)\d+/, "$1<t>"),
    issued: "<ms>",
  });
  return util.inspect(copy, { breakLength: 100 });
}

function main() {
  var server = http.createServer();
  var manager = sio.listen(server, { log: false, "client store expiration": 0 });
  var sockets = {};

  // --8<-- [start:mutate]
  manager.set("authorization", function (handshakeData, callback) {
    console.log("handshakeData = " + masked(handshakeData));
    handshakeData.user = "alice";  // in place: this object becomes socket.handshake
    callback(null, true, { user: "mallory" });  // a replacement: dropped by 0.9
  });
  // --8<-- [end:mutate]

  function connected(namespace) {
    return function (socket) {
      sockets[namespace] = socket;
      if (!sockets["/"] || !sockets["/admin"]) return;
      console.log("socket.handshake.user on /: " + JSON.stringify(sockets["/"].handshake.user)
        + ", on /admin: " + JSON.stringify(sockets["/admin"].handshake.user));
      console.log("one object for both namespaces: "
        + (sockets["/"].handshake === sockets["/admin"].handshake));
      console.log("'issued' in socket.handshake: " + ("issued" in sockets["/"].handshake));
      client.socket.disconnect();
      server.close();
    };
  }
  manager.sockets.on("connection", connected("/"));
  manager.of("/admin").on("connection", connected("/admin"));

  var client;
  server.listen(0, "127.0.0.1", function () {
    var url = "http://127.0.0.1:" + server.address().port;
    client = io.connect(url + "/?token=abc", { reconnect: false });
    client.socket.of("/admin");
  });
}

main();
