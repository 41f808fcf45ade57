/**
 * Known-answer vectors for the password hash tests, produced once with real tools (2026-11-26) and pasted here, never
 * generated at test time. Sources: OpenSSL 3.0.19 `openssl passwd`; Python 3.11 `crypt.crypt` over the system
 * libcrypt (libxcrypt, the crypt() nginx calls on Debian); `openssl sha1 -binary | base64`; bcryptjs 3.0.3
 * `hashSync`; libxcrypt through ctypes for raw (non UTF-8) bytes. Passwords are byte strings (one char per byte).
 */

export interface HashVector {
  readonly password: string;
  readonly hash: string;
  readonly source: string;
}

/** Bytes of a text's UTF-8 encoding as a byte string, as a client sending UTF-8 credentials delivers them. */
export const utf8 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** `pä:ss wörd` as latin1 bytes (0xE9, 0xF6: not valid UTF-8) and as UTF-8 bytes. */
export const LATIN1_PASSWORD = 'p\xe9:ss w\xf6rd';
export const UTF8_PASSWORD = utf8('pä:ss wörd');

export const VECTORS: readonly HashVector[] = [
  { password: 'secret', hash: '{PLAIN}secret', source: 'nginx {PLAIN}' },
  { password: '', hash: '{PLAIN}', source: 'nginx {PLAIN}' },
  { password: 'secret', hash: '{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=', source: 'printf secret | openssl sha1 -binary' },
  { password: '', hash: '{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk=', source: "printf '' | openssl sha1 -binary | base64" },
  { password: UTF8_PASSWORD, hash: '{SHA}jae4SHgds0RkoNTb3xXBCDPVeis=', source: 'openssl sha1 (UTF-8 shell)' },
  {
    password: 'secret',
    hash: '{SSHA}t+tCA0jy0Cg4hnguf023UZTPOeNOYUNsNDI0Mg==',
    source: 'openssl sha1 of secret+NaCl4242, salt appended, base64',
  },
  {
    password: LATIN1_PASSWORD,
    hash: '{SSHA}tx9A/NVeX8mWvAmX5vZbKNM4OW5zZWw=',
    source: 'openssl sha1 of latin1 bytes + "sel", salt appended, base64',
  },
  { password: 'secret', hash: '$apr1$saltsalt$LrttParrLPdxvgutaSXWJ0', source: 'openssl passwd -apr1 -salt saltsalt' },
  { password: 'secret', hash: '$apr1$ab$jiiV6N7hIIuIoJbc1hxOE/', source: 'openssl passwd -apr1 -salt ab' },
  { password: '', hash: '$apr1$Zq3.xY7w$Lfz/Xm6qG6HHvFIyd8Q.l1', source: "openssl passwd -apr1 -salt Zq3.xY7w ''" },
  { password: LATIN1_PASSWORD, hash: '$apr1$l1salt$NOn6Z9/RqCHu5MgJFErrm0', source: 'openssl passwd -apr1 (latin1)' },
  { password: UTF8_PASSWORD, hash: '$apr1$u8salt$TBqaSlCkZpB.E3GI/FAKj.', source: 'openssl passwd -apr1 (UTF-8)' },
  { password: 'secret', hash: '$1$saltsalt$9xy1btjgzLYfb7hivXtC//', source: 'openssl passwd -1 and libxcrypt' },
  { password: '', hash: '$1$s0$zWfXtTOfDrB2w6G/gVRmB.', source: "openssl passwd -1 -salt s0 ''" },
  { password: UTF8_PASSWORD, hash: '$1$utf8salt$25qbeM0EscSCgKfVufl460', source: 'libxcrypt (python crypt)' },
  {
    password: 'secret',
    hash: '$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA',
    source: 'openssl passwd -5 -salt saltsalt',
  },
  { password: '', hash: '$5$saltsalt$09agN5RZ2meWdEdnEusqsq5G7RwwghB8jCKoWWADxW/', source: 'libxcrypt' },
  {
    password: LATIN1_PASSWORD,
    hash: '$5$l1salt$x/zN2eb.Td9ptsEazRPduCAeq1GzwdWbpWoNzpsFQd8',
    source: 'openssl passwd -5 (latin1)',
  },
  {
    password: UTF8_PASSWORD,
    hash: '$5$rounds=2000$utf8salt$xubm120FF6YhTYTifJVVCxjNBXNLT3CGKPvybIUJuY0',
    source: 'libxcrypt, rounds=2000',
  },
  {
    password: 'secret',
    hash: '$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1',
    source: 'openssl passwd -6 -salt saltsalt',
  },
  {
    password: 'secret',
    hash: '$6$rounds=5000$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1',
    source: 'libxcrypt, explicit rounds=5000 (kept in the output)',
  },
  {
    password: 'secret',
    hash: '$6$rounds=1000$abc$MqEcPZUYRGGcOeq7PhMpfjfu/F0HrVEI0OlZBijWvO8mSG77iNUDP5MqFceKpJTBc8iITVtNyLiNTRNCxv6oh0',
    source: "openssl passwd -6 -salt 'rounds=1000$abc'",
  },
  {
    password: '',
    hash: '$6$saltsalt$qkTgsCrWMTAS9gBGcf9W60sFfH.hU0oTCAOJjhbz5tSp/sU3/xXZK4OFwCtq8lIIdpJ6CatVdOTSHKp97TPkt/',
    source: 'libxcrypt',
  },
  {
    password: LATIN1_PASSWORD,
    hash: '$6$l1salt$Zz7OUbOm36eCJq38Rx6TDyNdwkl.1c9roG4e3OaJtM9VtLwOo/5p7Wk05kuAWafl9Zpn/bc5d2QBY5YKclvfL1',
    source: 'openssl passwd -6 (latin1)',
  },
  {
    password: UTF8_PASSWORD,
    hash: '$6$utf8salt$AR83Y7.cSckNccKRfZiktmcP4TBlDQgGnJ.yuormkDVGqCyCN/sLCjcfVq4tCGiaqt5xCWaDZrUOhepqRnCwS.',
    source: 'libxcrypt',
  },
  {
    password: 'L'.repeat(511),
    hash: '$6$longpw$tCH0m6nIQ9kdtgUeoiZ19yXe8vGj79S5J7hn1GBYEKnYglJS.f.cGj7X.h5E2b06uxUc2X/xR9dMynyvaUSvp.',
    source: 'libxcrypt, 511-byte password (its maximum)',
  },
  {
    password: 'secret',
    hash: '$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
    source: 'libxcrypt bcrypt $2b$',
  },
  {
    password: 'secret',
    hash: '$2y$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
    source: 'libxcrypt bcrypt $2y$',
  },
  {
    password: 'secret',
    hash: '$2a$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW',
    source: 'libxcrypt bcrypt $2a$',
  },
  { password: '', hash: '$2b$04$abcdefghijklmnopqrstuubyCG3zY1GIXMyxfivm.ClDiInHzxjiq', source: 'libxcrypt bcrypt' },
  {
    password: UTF8_PASSWORD,
    hash: '$2y$05$0123456789abcdefghijku0z7mpjcMeef4TA5R9WUrbVKD5PFs8EK',
    source: 'libxcrypt bcrypt $2y$ (UTF-8)',
  },
  {
    password: 'x'.repeat(80),
    hash: '$2b$04$longlonglonglonglonglu7FMfxXvgMnX1YT3HGGzK7AuXFLUahTq',
    source: 'libxcrypt bcrypt, 80-byte password (bcrypt uses the first 72)',
  },
  {
    password: 'secret',
    hash: '$2b$04$ABCDEFGHIJKLMNOPQRSTUux/yVoHLb2P5.QxxfIdIyVUJvRQqUe5S',
    source: 'bcryptjs hashSync',
  },
  {
    password: UTF8_PASSWORD,
    hash: '$2b$04$uJxJjEVtGMDemi3oDEDs/O4K5Mb7JMtfjAUWgUYwKG89BlRgBsg3O',
    source: 'bcryptjs hashSync (UTF-8)',
  },
];

/** Drepper's "Unix crypt using SHA-256 and SHA-512" test vectors (setting, password, result), as libxcrypt gives them. */
export const DREPPER_VECTORS: readonly (readonly [string, string, string])[] = [
  ['$5$saltstring', 'Hello world!', '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5'],
  [
    '$5$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA',
  ],
  [
    '$5$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5',
  ],
  [
    '$5$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1',
  ],
  [
    '$5$rounds=77777$short',
    'we have a short salt string but not a short password',
    '$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/',
  ],
  [
    '$5$rounds=10$roundstoolow',
    'the minimum number is still observed',
    '$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC',
  ],
  [
    '$6$saltstring',
    'Hello world!',
    '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
  ],
  [
    '$6$rounds=10000$saltstringsaltstring',
    'Hello world!',
    '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.',
  ],
  [
    '$6$rounds=5000$toolongsaltstring',
    'This is just a test',
    '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0',
  ],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  [
    '$6$rounds=123456$asaltof16chars..',
    'a short string',
    '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1',
  ],
  [
    '$6$rounds=10$roundstoolow',
    'the minimum number is still observed',
    '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.',
  ],
];

/**
 * Hashes that nginx (libxcrypt) accepts for the password but berth refuses on purpose, or that nobody can match.
 * bcrypt over bytes that are not UTF-8: bcryptjs hashes a JS string's UTF-8 encoding, so such bytes cannot be fed.
 */
export const LATIN1_BCRYPT: HashVector = {
  password: LATIN1_PASSWORD,
  hash: '$2b$04$latin1latin1latin1latexuKtpp7JLHe.0O7QWpR2YtSzoeDu/4W',
  source: 'libxcrypt crypt() over raw latin1 bytes (ctypes)',
};

/** Formats crypt() knows and berth reports as unsupported (password `secret`). */
export const UNSUPPORTED: readonly HashVector[] = [
  { password: 'secret', hash: 'abNANd1rDfiNc', source: 'libxcrypt DES crypt, salt ab' },
  {
    password: 'secret',
    hash: '$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzDZ5XiVCe.',
    source: 'libxcrypt yescrypt',
  },
];
