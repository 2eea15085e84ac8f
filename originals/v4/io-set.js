"use strict";
// Socket.IO 1.x-2.x kept io.set('authorization', fn) as a shim (../v2/shim.js); 3.0 removed
// io.set. What a 0.9 app's line does on real Socket.IO 4.8.
//   node originals/v4/io-set.js   (the output is io-set.out.txt)
const { Server } = require("socket.io");

const io = new Server();
console.log(`typeof io.set: ${typeof io.set}`);
try {
  io.set("authorization", (handshakeData, callback) => callback(null, true));
} catch (err) {
  console.log(`io.set('authorization', fn): ${err.name}: ${err.message}`);
}
