"use strict";
// THE accept/refuse decision, ported from shared/policy/decision.py and shared/policy/tokens.py: the same
// carriers, codes, token claims and log line, so the Node.js and Python servers agree on every
// handshake (and accept each other's tokens when they share TOKEN_SECRET). Not ported: the
// throttle and token revocation. Added: the session cookie as a carrier (sessionIn), which each
// era's app reads from its own session store.
const crypto = require("crypto");
const path = require("path");
const argon2 = require("argon2");
const jwt = require("jsonwebtoken");

const MAX_CREDENTIAL_LENGTH = 2048;
const ALGORITHM = "HS256";
const TTL_SECONDS = 15 * 60;
const REQUIRED_CLAIMS = ["sub", "exp", "iat"];
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const REFUSALS = {
  missing_credentials: "Authentication required",
  malformed_credentials: "Malformed credentials",
  bad_credentials: "Invalid credentials",
  expired_token: "Token expired",
  conflicting_credentials: "Credentials name different users",
  forbidden_namespace: "Forbidden namespace",
  authorization_error: "Authorization failed",
  throttled: "Too many attempts, try again later",
  busy: "Server busy, try again later",
  unavailable: "Service unavailable, try again later",
  revoked_token: "Token revoked",
  invalid_session: "Session expired or unknown",
};

// Maps, not objects: a username or namespace such as "__proto__" must find nothing.
const NAMESPACE_ROLES = new Map([["/admin", ["admin"]]]);
const USERS_FILE = require(path.join(__dirname, "..", "shared", "policy", "users.json"));
const USERS = new Map(Object.entries(USERS_FILE.users));

// TOKEN_SECRET when set (servers that share it accept each other's tokens), else a random one.
const SECRET = process.env.TOKEN_SECRET
  ? Buffer.from(process.env.TOKEN_SECRET, "utf8")
  : crypto.randomBytes(32);
if (SECRET.length < 32) {  // RFC 7518 3.2: an HS256 key has at least 256 bits
  throw new Error("TOKEN_SECRET must be at least 32 bytes");
}

const has = (object, name) => Object.prototype.hasOwnProperty.call(object, name);
const isPlainObject = (value) =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// --8<-- [start:carriers]
/** Every credential a handshake presents, in carrier order: [{carrier, token | username,
 * password | problem}]. `query` as Node's querystring gives it (a repeated name is an array),
 * `headers` with lower-case names, `auth` the Socket.IO 3+ CONNECT payload (0.9: none). */
function credentialsIn(query, headers, auth) {
  const found = [];
  if (has(query, "token")) found.push(tokenIn("query token", query.token));
  if (has(query, "username") || has(query, "password")) {
    found.push(passwordIn("query password", query.username, query.password));
  }
  if (has(headers, "authorization")) {
    const [scheme, token] = partition(headers.authorization, " ");
    found.push(scheme.toLowerCase() === "bearer"
      ? tokenIn("authorization header", token.trim())
      : { carrier: "authorization header", problem: "not a Bearer token" });
  }
  const cookieTokens = cookiesNamed(headers, "token");
  if (cookieTokens.length) {
    found.push(tokenIn("cookie", cookieTokens.length === 1 ? cookieTokens[0] : cookieTokens));
  }
  if (isPlainObject(auth)) {
    if (has(auth, "token")) found.push(tokenIn("auth token", auth.token));
    if (has(auth, "username") || has(auth, "password")) {
      found.push(passwordIn("auth password", auth.username, auth.password));
    }
  } else if (auth !== undefined && auth !== null) {
    found.push({ carrier: "auth", problem: "auth is not an object" });
  }
  return found;
}
// --8<-- [end:carriers]

/** The values of every cookie called `name` in a Cookie header, as sent. */
function cookiesNamed(headers, name) {
  return (headers.cookie || "").split(";")
    .map((part) => partition(part, "="))
    .filter(([found]) => found.trim() === name)
    .map(([, value]) => value.trim());
}

// --8<-- [start:session]
/** The session carrier: `values`, every value of the session cookie the handshake sent (more
 * than one: which is meant is not guessed), and `session`, what the session store holds for
 * it, or null (a bad or missing signature, an unknown id, expired, logged out). Only the
 * user's name is kept in a session; the role is looked up, as for a token. */
function sessionIn(values, session) {
  const problem = problemWith(values.length === 1 ? values[0] : values);
  if (problem) return { carrier: "session cookie", problem };
  return { carrier: "session cookie", session: session && session.user ? session : null };
}
// --8<-- [end:session]

function partition(text, separator) {  // Python's str.partition: split on the first one only
  const at = text.indexOf(separator);
  return at === -1 ? [text, ""] : [text.slice(0, at), text.slice(at + separator.length)];
}

function problemWith(value) {
  if (Array.isArray(value)) return "given more than once";
  if (typeof value !== "string") return "not a string";
  if (!value) return "empty";
  if ([...value].length > MAX_CREDENTIAL_LENGTH) return "too long";  // code points, as len()
  return null;
}

function tokenIn(carrier, value) {
  const problem = problemWith(value);
  return problem ? { carrier, problem } : { carrier, token: value };
}

function passwordIn(carrier, username, password) {
  const problem = problemWith(username) || problemWith(password);
  return problem ? { carrier, problem } : { carrier, username, password };
}

/** All presented credentials must be valid and name the same user (fail closed). Resolves to
 * {user, role, expiresAt, tokenId} or {code, message}; never rejects. `client`, the peer
 * address, is what the Python policy's throttle counts failures for (not ported). */
async function authenticate(presented, { client = "" } = {}) {
  const carriers = presented.map((p) => p.carrier);
  let verdict;
  try {
    verdict = await decide(presented);
  } catch (err) {  // a bug or a broken hash: refuse, and keep the details in the server log
    console.error("authentication failed with an error:", err);
    verdict = refusal("authorization_error");
  }
  return verdict.code ? refuse(verdict.code, carriers) : verdict;
}

async function decide(presented) {
  if (!presented.length) return refusal("missing_credentials");
  if (presented.some((p) => p.problem)) return refusal("malformed_credentials");
  const verdicts = [];
  for (const credential of presented) verdicts.push(await check(credential));
  const refused = verdicts.find((v) => v.code);
  if (refused) return refused;
  if (new Set(verdicts.map((v) => `${v.user}\n${v.role}`)).size > 1) {
    return refusal("conflicting_credentials");
  }
  // the connection lasts as long as the shortest-lived credential presented
  const expiry = (v) => (v.expiresAt === null ? Infinity : v.expiresAt);
  return verdicts.reduce((a, b) => (expiry(b) < expiry(a) ? b : a));
}

/** The per-namespace rule: a refusal, or null when `identity` may join `namespace`. */
function authorizeNamespace(identity, namespace) {
  const allowed = NAMESPACE_ROLES.get(namespace);
  if (allowed && !allowed.includes(identity.role)) {
    return refuse("forbidden_namespace", [namespace]);
  }
  return null;
}

/** The user called `name`, as Passport deserializes one: {username, role}, or null. */
function userNamed(name) {
  const user = typeof name === "string" ? USERS.get(name) : undefined;
  return user ? { username: name, role: user.role } : null;
}

/** For POST /login: the identity behind a username and password, or a refusal. */
function login(username, password) {
  return authenticate([{ carrier: "login", username, password }]);
}

function check(credential) {
  if (credential.session !== undefined) return checkSession(credential.session);
  return credential.token !== undefined
    ? checkToken(credential.token)
    : checkPassword(credential.username, credential.password);
}

function checkSession(session) {
  const user = session && USERS.get(session.user);
  // names no live session, or a user who no longer exists: the cookie is of no use any more
  return user ? identity(session.user, user.role) : refusal("invalid_session");
}

async function checkPassword(username, password) {
  const user = USERS.get(username);
  // An unknown user costs one argon2 check too: the answer time does not tell which names
  // exist. argon2 runs in libuv's thread pool, never on the event loop.
  const ok = await argon2.verify(user ? user.password_hash : USERS_FILE.dummy_hash, password);
  return ok && user ? identity(username, user.role) : refusal("bad_credentials");
}

async function checkToken(token) {
  let claims;
  try {
    claims = verify(token);
  } catch (err) {
    return refusal(refusalFor(err));
  }
  const user = USERS.get(claims.sub);
  if (!user) return refusal("bad_credentials");
  return identity(claims.sub, user.role, claims.exp, claims.jti ?? null);
}

/** A token with claims sub, role, iat, exp and jti, as shared/policy/tokens.py issues them. */
function issue(user, role) {
  const iat = Math.floor(Date.now() / 1000);
  const jti = crypto.randomBytes(12).toString("base64url");
  return jwt.sign({ sub: user, role, iat, exp: iat + TTL_SECONDS, jti }, SECRET,
    { algorithm: ALGORITHM });
}

/** The claims of a valid token; throws a jsonwebtoken error otherwise. */
function verify(token) {
  if (!decodable(token)) throw new jwt.JsonWebTokenError("jwt malformed");
  const claims = jwt.verify(token, SECRET, { algorithms: [ALGORITHM] });
  if (!isPlainObject(claims)) throw new jwt.JsonWebTokenError("jwt payload is not an object");
  // jsonwebtoken requires no claim, not even exp: a token without one would never expire
  const missing = REQUIRED_CLAIMS.find((name) => claims[name] == null);  // absent or null
  if (missing) throw new jwt.JsonWebTokenError(`jwt ${missing} required`);
  return claims;
}

// What PyJWT decodes before it checks a signature: three segments of canonical base64url
// (up to two "=" of padding allowed) and a header that is a JSON object. What it cannot
// decode is malformed; jsonwebtoken would call some of it a bad signature.
function decodable(token) {
  const segments = token.split(".");
  if (segments.length !== 3 || !segments.every(isBase64url)) return false;
  try {
    return isPlainObject(JSON.parse(UTF8.decode(Buffer.from(segments[0], "base64url"))));
  } catch {
    return false;
  }
}

function isBase64url(segment) {
  const stripped = segment.replace(/={1,2}$/, "");
  if (stripped !== segment && segment.length % 4 !== 0) return false;
  return Buffer.from(stripped, "base64url").toString("base64url") === stripped;
}

// The codes PyJWT's exceptions give in shared/policy/decision.py.
function refusalFor(err) {
  if (err instanceof jwt.TokenExpiredError) return "expired_token";  // ExpiredSignatureError
  if (err.message === "jwt malformed") return "malformed_credentials";  // DecodeError
  return "bad_credentials";  // a bad signature, or any other InvalidTokenError
}

function identity(user, role, expiresAt = null, tokenId = null) {
  return { user, role, expiresAt, tokenId };
}

function refusal(code) {
  return { code, message: REFUSALS[code] };
}

// Logged once per refusal, with the carriers' names and never a credential value.
function refuse(code, carriers) {
  console.log(`refused: ${code} (carriers: ${carriers.join(", ") || "none"})`);
  return refusal(code);
}

module.exports = {
  REFUSALS, TTL_SECONDS, MAX_CREDENTIAL_LENGTH,
  credentialsIn, cookiesNamed, sessionIn, authenticate, authorizeNamespace, login, userNamed,
  issue, verify,
};
