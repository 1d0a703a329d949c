-- pl.stringx: Python's string methods (Penlight manual, "Strings").
local stringx = require "pl.stringx"

print(stringx.split("a b  c"), stringx.split("a,b,,c", ","), stringx.split("a,b,c", ",", 2))
print("[" .. stringx.strip("  x y  ") .. "]", "[" .. stringx.lstrip("--x--", "-") .. "]", "[" .. stringx.rstrip("x\t\n") .. "]")
print(stringx.startswith("hello", "he"), stringx.endswith("hello", { "x", "lo" }), stringx.startswith("hello", "lo"))
print(stringx.join(",", { "a", "b", "c" }), stringx.replace("aaa", "a", "b", 2), stringx.count("abababa", "aba"), stringx.count("abababa", "aba", true))
print("[" .. stringx.center("mid", 9, "*") .. "]", "[" .. stringx.ljust("l", 4) .. "]", "[" .. stringx.rjust("7", 3, "0") .. "]")
print(stringx.splitlines("one\ntwo\r\nthree"), #stringx.splitlines("a\nb\n", true))
print(stringx.expandtabs("a\tb", 4), stringx.title("the quick brown fox"), stringx.shorten("a long sentence here", 10))
print(stringx.partition("key=value=x", "="))
print(stringx.rpartition("key=value=x", "="))
print(stringx.at("hello", 2), stringx.isdigit("123"), stringx.isdigit("12a"), stringx.isalpha("abc"), stringx.isspace(" \t"))
print(stringx.lfind("hello world", "o"), stringx.rfind("hello world", "o"), stringx.lfind("abc", "z"))
print(stringx.splitv("1 2 3"))
print(stringx.indent("a\nb", 2), stringx.dedent("    x\n      y\n"))
print(stringx.quote_string("say \"hi\"\n"), stringx.quote_string("plain"))
local lines = {}
for line in stringx.lines("l1\nl2\nl3") do lines[#lines + 1] = line end
print(table.concat(lines, "|"), stringx.upper and stringx.upper("x") or "no upper")
print(stringx.Template("$who likes $what"):substitute { who = "Ann", what = "tea" })
print(stringx.Template("${a}b"):safe_substitute { })
