-- Tests of lsgi.crypto, against published vectors.
local check = require "check"
local crypto = require "lsgi.crypto"

local T = {}

-- RFC 4231, HMAC-SHA-256 test cases 1 to 7.
function T.hmac_rfc4231()
  local cases = {
    { string.rep("\11", 20), "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
    { "Jefe", "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
    { string.rep("\170", 20), string.rep("\221", 50),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
    { crypto.hex_decode("0102030405060708090a0b0c0d0e0f10111213141516171819"), string.rep("\205", 50),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
    { string.rep("\170", 131), "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
    { string.rep("\170", 131),
      "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
  }
  for i, c in ipairs(cases) do
    check.eq(crypto.hmac_sha256_hex(c[1], c[2]), c[3], "case " .. i)
    check.eq(crypto.hex_encode(crypto.hmac_sha256(c[1], c[2])), c[3], "raw case " .. i)
  end
  -- Test case 5 is truncated to 128 bits.
  local mac = crypto.hmac_sha256(string.rep("\12", 20), "Test With Truncation")
  check.eq(crypto.hex_encode(mac:sub(1, 16)), "a3b6167473100ee06e0c796c2955552b")
  check.eq(#mac, 32)
end

-- FIPS 180-2 examples.
function T.sha256()
  check.eq(crypto.sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  check.eq(crypto.sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  check.eq(crypto.sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  check.eq(#crypto.sha256("abc"), 32)
  check.eq(crypto.hex_encode(crypto.sha256("abc")), crypto.sha256_hex("abc"))
end

-- RFC 4648 section 10, and the URL alphabet.
function T.base64()
  local vectors = { [""] = "", f = "Zg==", fo = "Zm8=", foo = "Zm9v", foob = "Zm9vYg==", fooba = "Zm9vYmE=", foobar = "Zm9vYmFy" }
  for plain, enc in pairs(vectors) do
    check.eq(crypto.base64_encode(plain), enc, plain)
    check.eq(crypto.base64_decode(enc), plain, enc)
    check.eq(crypto.base64url_encode(plain), (enc:gsub("=", "")), "url " .. plain)
    check.eq(crypto.base64url_decode(enc), plain, "padded url " .. enc)
    check.eq(crypto.base64url_decode((enc:gsub("=", ""))), plain, "url " .. enc)
  end
  local bytes = "\251\255\191"
  check.eq(crypto.base64_encode(bytes), "+/+/")
  check.eq(crypto.base64url_encode(bytes), "-_-_")
  check.eq(crypto.base64url_decode("-_-_"), bytes)
  local v, err = crypto.base64_decode("not base64!")
  check.eq(v, nil)
  check.contains(err, "lsgi.crypto.base64_decode: illegal base64 data")
  v, err = crypto.base64url_decode("+/+/")
  check.eq(v, nil)
  check.contains(err, "base64url_decode")
end

function T.hex()
  check.eq(crypto.hex_encode("\0\1\254\255"), "0001feff")
  check.eq(crypto.hex_decode("0001FEff"), "\0\1\254\255")
  local v, err = crypto.hex_decode("abc")
  check.eq(v, nil)
  check.contains(err, "hex_decode")
end

function T.equals()
  check.ok(crypto.equals("", ""))
  check.ok(crypto.equals("token", "token"))
  check.no(crypto.equals("token", "tokeN"))
  check.no(crypto.equals("token", "token2"))
  check.no(crypto.equals("\0", ""))
  check.raises(function() crypto.equals("a", nil) end)
end

function T.random()
  local a, b = crypto.random_bytes(16), crypto.random_bytes(16)
  check.eq(#a, 16)
  check.ne(a, b)
  check.matches(crypto.random_hex(8), "^%x+$")
  check.eq(#crypto.random_hex(8), 16)
  local t = crypto.token()
  check.eq(#t, 43)
  check.matches(t, "^[%w_%-]+$")
  check.eq(#crypto.token(16), 22)
  local seen = {}
  for _ = 1, 100 do
    local tok = crypto.token(8)
    check.no(seen[tok], "a repeated token")
    seen[tok] = true
  end
  check.raises(function() crypto.random_bytes(0) end, "from 1 to 1048576")
  check.raises(function() crypto.random_bytes(2 * 1024 * 1024) end, "from 1 to 1048576")
  check.raises(function() crypto.random_hex() end, "missing")
end

return T
