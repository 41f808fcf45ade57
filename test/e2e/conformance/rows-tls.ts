import { tlsRow } from './row-helpers.ts';
import type { Row } from './types.ts';

/** TLS rows of sections 1.1-1.3: listed so the table is complete, not run (they belong to the TLS issue). */
export const TLS_ROWS: readonly Row[] = [
  tlsRow('cert-name', '1.1', 'CERT_NAME', 'Base name of the certificate in /etc/nginx/certs for the host'),
  tlsRow('https-method', '1.1', 'HTTPS_METHOD (container or proxy)', '`redirect` (default), `noredirect`, `nohttp`, `nohttps`'),
  tlsRow('hsts', '1.1', 'HSTS (container or proxy)', 'Strict-Transport-Security value over HTTPS; `off` disables'),
  tlsRow('ssl-policy', '1.1', 'SSL_POLICY (container or proxy)', 'ssl_protocols / ssl_ciphers from Mozilla or AWS policy names'),
  tlsRow('acme-http-challenge-location', '1.1', 'ACME_HTTP_CHALLENGE_LOCATION (container or proxy)', 'Serves /.well-known/acme-challenge/ on port 80'),
  tlsRow('enable-http-on-missing-cert', '1.1', 'ENABLE_HTTP_ON_MISSING_CERT (container or proxy)', 'Downgrades redirect/nohttp to noredirect when no certificate is usable'),
  tlsRow('external-https-port', '1.1', 'EXTERNAL_HTTPS_PORT', 'The host\'s HTTPS listen port and redirect target'),
  tlsRow('letsencrypt', '1.1', 'LETSENCRYPT_* (acme-companion)', 'Read by acme-companion, not by nginx-proxy'),
  tlsRow('https-port', '1.3', 'HTTPS_PORT', 'The HTTPS listen port and the redirects\' port'),
  tlsRow('non-get-redirect', '1.3', 'NON_GET_REDIRECT', 'Global default of the non-get-redirect label'),
  tlsRow('trust-default-cert', '1.3', 'TRUST_DEFAULT_CERT', 'Global default of the trust-default-cert label'),
  tlsRow('enable-http2', '1.3', 'ENABLE_HTTP2', 'HTTP/2 on the HTTPS servers'),
  tlsRow('enable-http3', '1.3', 'ENABLE_HTTP3', 'HTTP/3 (QUIC) on the HTTPS servers'),
  tlsRow('acme-http-challenge-accept-unknown-host', '1.3', 'ACME_HTTP_CHALLENGE_ACCEPT_UNKNOWN_HOST', 'ACME location on the fallback server'),
  tlsRow('dhparam-bits', '1.3', 'DHPARAM_BITS', 'RFC 7919 DH group size for DHE ciphers'),
  tlsRow('dhparam-skip', '1.3', 'DHPARAM_SKIP', 'Skips the DH parameters setup'),
  tlsRow('docker-tls-verify', '1.3', 'DOCKER_TLS_VERIFY, DOCKER_CERT_PATH', 'TLS to a tcp:// Docker endpoint'),
];
