"use strict";
// What both eras' Passport apps share: the demo's users, behind passport-local. The password
// check is the policy's (argon2); the session keeps the user's name only.
const policy = require("./policy");

/** Configure `passport` (each era's own copy) with `LocalStrategy` (passport-local's). */
function configure(passport, LocalStrategy) {
  passport.use(new LocalStrategy((username, password, done) => {
    policy.login(username, password).then((verdict) => {
      done(null, verdict.code ? false : policy.userNamed(verdict.user));
    }, done);
  }));
  passport.serializeUser((user, done) => done(null, user.username));
  passport.deserializeUser((name, done) => done(null, policy.userNamed(name) || false));
}

module.exports = { configure };
