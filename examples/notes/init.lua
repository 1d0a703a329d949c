-- notes: a small notes service built with the LSGI toolkit. Served at
-- /notes by `lsgi serve examples` (NAME/init.lua is mounted at /NAME; the
-- folder holds the app's templates, static files and migrations).
--
--   GET    /notes/                 an HTML page (templates/) with the notes and two forms
--   GET    /notes/api/notes        the notes as JSON; ?tag=a&tag=b keeps notes with any of those tags
--   POST   /notes/api/notes        a new note from a form (urlencoded or multipart) or JSON:
--                                  text (required), author, tag (repeatable) / tags (array);
--                                  201 with the note and a Location, or 303 back to the page
--                                  for a browser's form post
--   GET    /notes/api/notes/:id    one note, or 404
--   DELETE /notes/api/notes/:id    204, or 404
--   POST   /notes/upload           a multipart upload (field "file"): its name, size, type
--                                  and Adler-32 checksum, as JSON
--   GET    /notes/static/...       files from static/, with ETag, Last-Modified and Range
--
-- Every response goes through gzip (for clients that accept it) and the
-- errors middleware, which turns Response.abort and the client mistakes
-- lsgi.request finds (a malformed form or JSON: 400, a body too large: 413,
-- JSON expected: 415) into plain answers with that status.
--
-- The notes live in the app's database (lsgi.db): a SQLite file,
-- data/notes.db, unless lsgi serve is given --db postgres://... The tables
-- come from migrations/, which the host runs once, when the app loads. So
-- every Lua state of the app sees the same notes, and they survive reloads
-- and restarts. The page counts its views in a shared dictionary
-- (lsgi.shared), which every state sees too: kept across reloads, and
-- across restarts when lsgi serve keeps its dictionaries in Redis.
local Router = require "lsgi.router"
local Request = require "lsgi.request"
local Response = require "lsgi.response"
local template = require "lsgi.template"
local errors = require "lsgi.middleware.errors"
local static = require "lsgi.middleware.static"
local gzip = require "lsgi.middleware.gzip"
local util = require "lsgi.util"
local json = require "lsgi.json"
local db = require "lsgi.db"
local stats = require("lsgi.shared").stats

local MAX_NOTES = 500 -- the oldest note goes when a new one would pass this
local MAX_TEXT = 2000 -- bytes of note text
local MAX_TAGS = 10
local MAX_UPLOAD = 4 * 1024 * 1024 -- bytes of request body for /upload
local AUTHOR_COOKIE = "notes_author"

-- note_from turns a row of the notes table into the note the API shows.
local function note_from(row)
  return {
    id = row.id,
    text = row.text,
    author = row.author, -- db.null, which is json.null, for a note without one
    tags = json.array(json.decode(row.tags)),
    created = row.created,
  }
end

local function find_note(id)
  id = tonumber(id)
  if not id then return nil end
  local rows = db.query("SELECT id, text, author, tags, created FROM notes WHERE id = ?", id)
  return rows[1] and note_from(rows[1])
end

-- all_notes returns every note, oldest first (at most MAX_NOTES of them).
local function all_notes()
  local notes = {}
  for _, row in ipairs(db.query("SELECT id, text, author, tags, created FROM notes ORDER BY id")) do
    notes[#notes + 1] = note_from(row)
  end
  return notes
end

-- add_note stores a note and returns it with its id. The id comes from the
-- counter in the same transaction, so two requests never get the same one,
-- and the oldest notes past MAX_NOTES go in that transaction too.
local function add_note(note)
  return db.tx(function(tx)
    local id = tx.query("UPDATE counters SET n = n + 1 WHERE name = 'notes' RETURNING n")[1].n
    tx.exec("INSERT INTO notes (id, text, author, tags, created) VALUES (?, ?, ?, ?, ?)",
      id, note.text, note.author, json.encode(note.tags), note.created)
    tx.exec("DELETE FROM notes WHERE id <= ?", id - MAX_NOTES)
    note.id = id
    return note
  end)
end

-- adler32 returns the Adler-32 checksum of s (RFC 1950) as 8 hex digits.
-- Lua 5.1 numbers are doubles: summing 4000 bytes between two reductions
-- keeps every value far below 2^53.
local function adler32(s)
  local byte, min = string.byte, math.min
  local a, b, n, i = 1, 0, #s, 1
  while i <= n do
    local j = min(i + 3999, n)
    for k = i, j do
      a = a + byte(s, k)
      b = b + a
    end
    a, b = a % 65521, b % 65521
    i = j + 1
  end
  return string.format("%08x", b * 65536 + a)
end

-- clean_tags checks a list of tags from a form or JSON and drops repeats.
local function clean_tags(list)
  local tags, seen = json.array(), {}
  if list == nil or list == json.null then return tags end
  if type(list) ~= "table" then Response.abort(400, "tags must be an array of strings") end
  for _, tag in ipairs(list) do
    if type(tag) ~= "string" or not tag:find("^[%w_%-]+$") or #tag > 30 then
      Response.abort(400, "a tag is 1 to 30 letters, digits, - or _")
    end
    if not seen[tag] then
      seen[tag] = true
      tags[#tags + 1] = tag
    end
  end
  if #tags > MAX_TAGS then Response.abort(400, "at most " .. MAX_TAGS .. " tags") end
  return tags
end

-- note_input reads text, author and tags from a JSON body or a form.
local function note_input(req)
  if req.mimetype == "application/json" then
    local v = req.json
    if type(v) ~= "table" then Response.abort(400, "expected a JSON object") end
    return { text = v.text, author = v.author, tags = clean_tags(v.tags), form = false }
  end
  if req.mimetype ~= "application/x-www-form-urlencoded" and req.mimetype ~= "multipart/form-data" then
    Response.abort(415, "send a form or JSON")
  end
  return { text = req.form.text, author = req.form.author, tags = clean_tags(req.form_all.tag), form = true }
end

local function wants_html(req)
  return (req.headers.accept or ""):find("text/html", 1, true) ~= nil
end

local r = Router()

r:get("/", function(environ, start_response)
  local req = Request(environ)
  local notes = all_notes()
  local newest_first = {}
  for i = #notes, 1, -1 do
    newest_first[#newest_first + 1] = notes[i]
  end
  local author = req.cookies[AUTHOR_COOKIE]
  local views = stats:incr("page_views", 1, 0) -- atomic across states
  local page = template.render({ "templates/layout.html", "templates/index.html" }, {
    title = "Notes",
    base = req.script_name,
    notes = newest_first,
    count = #notes,
    views = views,
    author = author and util.unquote_plus(author) or "",
  })
  return Response.html(page)(environ, start_response)
end)

r:get("/api/notes", function(environ, start_response)
  local wanted = Request(environ).args_all.tag
  local list = json.array()
  for _, note in ipairs(all_notes()) do
    local keep = wanted == nil
    for _, want in ipairs(wanted or {}) do
      for _, tag in ipairs(note.tags) do
        if tag == want then keep = true end
      end
    end
    if keep then list[#list + 1] = note end
  end
  return Response.json({ notes = list, count = #list })(environ, start_response)
end)

r:post("/api/notes", function(environ, start_response)
  local req = Request(environ)
  local input = note_input(req)
  local text, author = input.text, input.author
  if type(text) ~= "string" or not text:find("%S") then Response.abort(400, "text is required") end
  if #text > MAX_TEXT then Response.abort(400, "text is longer than " .. MAX_TEXT .. " bytes") end
  if author == "" or author == json.null then author = nil end
  if author ~= nil and (type(author) ~= "string" or #author > 100) then
    Response.abort(400, "author must be a string of at most 100 bytes")
  end

  local note = add_note({
    text = text,
    author = author or json.null,
    tags = input.tags,
    created = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  })

  local resp
  if input.form and wants_html(req) then
    resp = Response.redirect(req.script_name .. "/", 303)
  else
    resp = Response.json(note, 201)
    resp:set_header("Location", req.script_name .. "/api/notes/" .. note.id)
  end
  if author then
    -- Cookie values may not hold spaces, quotes or non-ASCII bytes.
    resp:set_cookie(AUTHOR_COOKIE, util.quote_plus(author), {
      path = req.script_name ~= "" and req.script_name or "/", max_age = 30 * 24 * 3600, http_only = true, same_site = "Lax",
    })
  end
  return resp(environ, start_response)
end)

r:get("/api/notes/:id", function(environ, start_response)
  local note = find_note(Request(environ).params.id)
  if not note then Response.abort(404, "no such note") end
  return Response.json(note)(environ, start_response)
end)

r:delete("/api/notes/:id", function(environ, start_response)
  local id = tonumber(Request(environ).params.id)
  if not id or db.exec("DELETE FROM notes WHERE id = ?", id) == 0 then Response.abort(404, "no such note") end
  return Response(nil, 204)(environ, start_response)
end)

r:post("/upload", function(environ, start_response)
  local req = Request(environ, { max_body = MAX_UPLOAD })
  if req.mimetype ~= "multipart/form-data" then Response.abort(415, "send multipart/form-data") end
  local file = req.files.file
  if not file then Response.abort(400, "no file in the field \"file\"") end
  -- lsgi.request strips the folders of a path sent as the file name; a
  -- Windows path sent by an old browser still has its backslashes.
  return Response.json({
    name = file.filename:match("[^\\]*$"),
    size = file.size,
    content_type = file.content_type,
    adler32 = adler32(file.data),
  })(environ, start_response)
end)

return errors(gzip(static(r, { max_age = 3600 })))
