// tokencheck web app: logs a user in with the authorization code flow and PKCE (RFC 7636) as a public client, then
// calls the API with and without the access token. Tokens live in this script's memory only: a reload forgets
// them. sessionStorage holds state, nonce and the PKCE verifier across the login redirect and nothing else.
'use strict';

(() => {
  const LOGIN_KEY = 'tokencheck.login';
  const LEEWAY_SECONDS = 60; // clock difference tolerated on the ID token's exp and iat
  const MAX_BODY_CHARS = 20000; // the result area shows at most this much of an answer

  const $ = (id) => document.getElementById(id);
  let config = null; // the server's /config.json
  let discovery = null; // the issuer's /.well-known/openid-configuration
  let session = null; // {accessToken, name}, in memory only
  let seq = 0; // how many results have been shown; browser tests wait on it

  const encoder = new TextEncoder();

  function b64url(bytes) {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function b64urlDecode(s) {
    if (typeof s !== 'string' || !/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
    const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  }

  function randomString(bytes) {
    return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
  }

  async function sha256(text) {
    return new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)));
  }

  // httpURL accepts only http(s) URLs from discovery, so a hostile document cannot send the page to javascript:.
  function httpURL(raw, what) {
    let u;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`discovery has no usable ${what}`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`discovery's ${what} is not http(s)`);
    return u;
  }

  async function getJSON(url, what) {
    let res;
    try {
      res = await fetch(url, { cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      throw new Error(`${what}: no answer from ${url} (${e.message}); is it up, and does it allow ${location.origin} for CORS?`);
    }
    if (!res.ok) throw new Error(`${what}: ${url} answered ${res.status}`);
    try {
      return await res.json();
    } catch {
      throw new Error(`${what}: ${url} did not answer JSON`);
    }
  }

  async function loadDiscovery() {
    const doc = await getJSON(config.issuerUrl + '.well-known/openid-configuration', 'discovery');
    for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
      if (typeof doc[k] !== 'string' || doc[k] === '') throw new Error(`discovery has no ${k}`);
    }
    for (const k of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) httpURL(doc[k], k);
    if (doc.end_session_endpoint) httpURL(doc.end_session_endpoint, 'end_session_endpoint');
    return doc;
  }

  function redirectURI() {
    return location.origin + '/callback';
  }

  async function login() {
    const verifier = randomString(32);
    const challenge = b64url(await sha256(verifier));
    const state = randomString(16);
    const nonce = randomString(16);
    sessionStorage.setItem(LOGIN_KEY, JSON.stringify({ state, nonce, verifier }));
    const u = httpURL(discovery.authorization_endpoint, 'authorization_endpoint');
    const p = {
      response_type: 'code',
      client_id: config.clientId,
      redirect_uri: redirectURI(),
      scope: config.scope,
      audience: config.audience,
      state,
      nonce,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    };
    for (const [k, v] of Object.entries(p)) u.searchParams.set(k, v);
    location.assign(u.toString());
  }

  // finishLogin exchanges the code from the callback for tokens and checks the ID token.
  async function finishLogin(params, saved) {
    if (params.has('error')) {
      const desc = params.get('error_description');
      throw new Error(`login failed: ${params.get('error')}${desc ? ': ' + desc : ''}`);
    }
    if (!saved) throw new Error('this tab started no login (or already finished it); log in again');
    if (params.get('state') !== saved.state) throw new Error('login answer with a wrong state; ignored');
    if (params.has('iss') && params.get('iss') !== discovery.issuer) {
      throw new Error('login answer from another issuer (RFC 9207 iss); ignored');
    }
    const code = params.get('code');
    if (!code) throw new Error('login answer without a code');
    const res = await fetch(httpURL(discovery.token_endpoint, 'token_endpoint'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectURI(),
        client_id: config.clientId,
        code_verifier: saved.verifier,
      }),
      cache: 'no-store',
      credentials: 'omit',
    });
    let tok = null;
    try {
      tok = await res.json();
    } catch {
      // handled below
    }
    if (!res.ok || !tok) {
      const why = tok && tok.error ? `${tok.error}${tok.error_description ? ': ' + tok.error_description : ''}` : `status ${res.status}`;
      throw new Error(`token exchange failed: ${why}`);
    }
    if (typeof tok.access_token !== 'string' || tok.access_token === '') throw new Error('token response has no access_token');
    if (tok.token_type && tok.token_type.toLowerCase() !== 'bearer') throw new Error(`token_type ${tok.token_type}, want Bearer`);
    const claims = await verifyIDToken(tok.id_token, saved.nonce, tok.access_token);
    session = {
      accessToken: tok.access_token,
      name: String(claims.name || claims.nickname || claims.preferred_username || claims.email || claims.sub || ''),
    };
  }

  function decodePart(part) {
    return JSON.parse(new TextDecoder().decode(b64urlDecode(part)));
  }

  // verifyIDToken checks the ID token's RS256 signature with the issuer's key set and its claims (OIDC Core
  // 3.1.3.7). iss is compared with the discovery document's issuer, which may name another host than the one this
  // browser reached the tenant on (inside docker compose the tokens say http://tenant:4000/).
  async function verifyIDToken(jwt, nonce, accessToken) {
    if (typeof jwt !== 'string') throw new Error('token response has no id_token (is "openid" in the scope?)');
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new Error('id_token is not a JWS');
    let header, claims;
    try {
      header = decodePart(parts[0]);
      claims = decodePart(parts[1]);
    } catch {
      throw new Error('id_token does not decode');
    }
    if (header.alg !== 'RS256') throw new Error(`id_token alg ${header.alg}, want RS256`);
    const jwks = await getJSON(discovery.jwks_uri, 'key set');
    const jwk = (Array.isArray(jwks.keys) ? jwks.keys : []).find(
      (k) => k.kid === header.kid && k.kty === 'RSA' && (!k.use || k.use === 'sig'));
    if (!jwk) throw new Error(`id_token key ${header.kid} is not in the issuer's key set`);
    const key = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e },
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
    const signed = encoder.encode(parts[0] + '.' + parts[1]);
    if (!(await crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, b64urlDecode(parts[2]), signed))) {
      throw new Error('id_token signature does not verify');
    }
    if (claims.iss !== discovery.issuer) throw new Error(`id_token iss ${claims.iss}, want ${discovery.issuer}`);
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(config.clientId)) throw new Error(`id_token aud does not name client ${config.clientId}`);
    if (aud.length > 1 && claims.azp !== config.clientId) throw new Error('id_token azp is not this client');
    if (claims.nonce !== nonce) throw new Error('id_token nonce does not match this login');
    const now = Date.now() / 1000;
    if (typeof claims.exp !== 'number' || claims.exp + LEEWAY_SECONDS < now) throw new Error('id_token is expired');
    if (typeof claims.iat === 'number' && claims.iat - LEEWAY_SECONDS > now) throw new Error('id_token is issued in the future');
    if (claims.at_hash !== undefined) {
      const digest = await sha256(accessToken);
      if (claims.at_hash !== b64url(digest.slice(0, digest.length / 2))) throw new Error('id_token at_hash does not match the access token');
    }
    return claims;
  }

  function logout() {
    session = null;
    render();
    showMessage('');
    if (!discovery || !discovery.end_session_endpoint) return;
    const u = httpURL(discovery.end_session_endpoint, 'end_session_endpoint');
    u.searchParams.set('client_id', config.clientId);
    u.searchParams.set('post_logout_redirect_uri', location.origin + '/');
    location.assign(u.toString());
  }

  function pretty(text) {
    let out = text;
    try {
      out = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: show it as it came
    }
    return out.length > MAX_BODY_CHARS ? out.slice(0, MAX_BODY_CHARS) + '\n[… cut]' : out;
  }

  function showResult(request, status, body, challenge) {
    const result = $('result');
    $('request').textContent = request;
    $('status').textContent = status;
    $('body').textContent = body;
    $('www-authenticate').textContent = challenge;
    seq += 1;
    result.dataset.seq = String(seq);
    result.dataset.state = 'done';
  }

  async function callAPI(button) {
    const path = button.dataset.path;
    const headers = {};
    let how = 'without a token';
    if (button.dataset.token === 'bearer') {
      if (session) {
        headers.Authorization = 'Bearer ' + session.accessToken;
        how = 'with the access token';
      } else {
        how = 'without a token (not logged in)';
      }
    }
    const request = `GET ${path} ${how}`;
    $('result').dataset.state = 'pending';
    try {
      const res = await fetch(config.apiUrl + path, { headers, cache: 'no-store', credentials: 'omit' });
      const text = await res.text();
      showResult(request, String(res.status), pretty(text), res.headers.get('WWW-Authenticate') || '');
    } catch (e) {
      showResult(request, '', `no answer: ${e.message}. Is the API up at ${config.apiUrl}, and does it allow ` +
        `${location.origin} in CORS_ALLOWED_ORIGINS?`, '');
    }
  }

  function showMessage(text) {
    $('message').textContent = text;
  }

  function render() {
    const loggedIn = session !== null;
    $('user').textContent = loggedIn ? session.name : '';
    $('user').dataset.state = loggedIn ? 'in' : 'out';
    $('logged-out-note').hidden = loggedIn;
    $('login').hidden = loggedIn;
    $('login').disabled = discovery === null;
    $('logout').hidden = !loggedIn;
  }

  async function start() {
    // Read and clean the callback URL first, before anything can fail: the code must not stay in the address bar
    // or the history.
    let callback = null;
    if (location.pathname === '/callback') {
      let saved = null;
      try {
        saved = JSON.parse(sessionStorage.getItem(LOGIN_KEY) || 'null');
      } catch {
        // a mangled entry counts as none
      }
      callback = { params: new URLSearchParams(location.search), saved };
      sessionStorage.removeItem(LOGIN_KEY);
      history.replaceState(null, '', '/');
    }
    $('login').addEventListener('click', () => {
      login().catch((e) => showMessage(e.message));
    });
    $('logout').addEventListener('click', logout);
    for (const b of document.querySelectorAll('button[data-path]')) {
      b.addEventListener('click', () => callAPI(b));
    }
    try {
      config = await getJSON('/config.json', 'configuration');
      $('api-url').textContent = config.apiUrl;
      for (const b of document.querySelectorAll('button[data-path]')) b.disabled = false;
      if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
        throw new Error('logging in needs a secure context: open this page over https or as http://localhost');
      }
      discovery = await loadDiscovery();
      if (callback) await finishLogin(callback.params, callback.saved);
    } catch (e) {
      showMessage(e.message);
    }
    render();
    document.body.dataset.ready = 'true';
  }

  document.addEventListener('DOMContentLoaded', start);
})();
