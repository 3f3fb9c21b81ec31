-- The engine of a polywire dissector: it walks the protocol's description (the table `D`
-- above, written from the IR) over a TCP stream, in the order and with the rules of the
-- generated decoders: frames are found by their length prefix or by reading them (and
-- reassembled across segments), and every field, bit part, element, entry and member is
-- shown with its bytes.

local INCOMPLETE = {}

local function fail(msg)
    error({ msg = msg }, 0)
end

-- A reader: the unread bytes [pos, stop) of the tvb. `open`: its end is only where the bytes
-- received so far end (reading past it means "need more").
local function reader(tvb, pos, stop, open, version, sender)
    return { tvb = tvb, pos = pos, stop = stop, open = open, version = version or 0, sender = sender, depth = 0 }
end

local function need(r, n)
    if r.pos + n > r.stop then
        if r.open then error(INCOMPLETE, 0) end
        fail(string.format("the frame ends early: %d byte(s) needed, %d left", n, r.stop - r.pos))
    end
end

local function region(r, n)
    need(r, n)
    local sub = reader(r.tvb, r.pos, r.pos + n, false, r.version, r.sender)
    sub.depth = r.depth
    r.pos = r.pos + n
    return sub
end

local function finish(r)
    if r.pos ~= r.stop then fail(string.format("%d byte(s) left over", r.stop - r.pos)) end
end

-- Integers come out as Lua numbers (exact up to 2^53).
local function read_int(r, t)
    need(r, t.b)
    local rg = r.tvb(r.pos, t.b)
    local v
    if t.b == 8 then
        local x
        if t.le then
            x = t.s and rg:le_int64() or rg:le_uint64()
        else
            x = t.s and rg:int64() or rg:uint64()
        end
        v = x:tonumber()
    elseif t.b == 3 then
        v = t.le and rg:le_uint() or rg:uint()
        if t.s and v >= 0x800000 then v = v - 0x1000000 end
    elseif t.s then
        v = t.le and rg:le_int() or rg:int()
    else
        v = t.le and rg:le_uint() or rg:uint()
    end
    r.pos = r.pos + t.b
    return v
end

-- The bit pattern of a word (signed words without their sign extension).
local function read_word(r, t)
    local v = read_int(r, t)
    if t.s and v < 0 then v = v + 2 ^ (8 * t.b) end
    return v
end

-- A varint: a number, or a UInt64 when it is beyond 2^53 (exact either way).
local function read_varint(r, max)
    local v, n = UInt64(0), 0
    while true do
        need(r, 1)
        local b = r.tvb(r.pos, 1):uint()
        r.pos = r.pos + 1
        v = v:bor(UInt64(b % 128):lshift(7 * n))
        n = n + 1
        if b < 128 then break end
        if n >= 10 then fail("varint longer than 10 bytes") end
    end
    if v:higher() < 0x200000 then
        v = v:tonumber()
        if max and v > max then fail(string.format("varint %d above its maximum %d", v, max)) end
    elseif max then
        fail("varint above its maximum")
    end
    return v
end

local function read_prefix(r, p)
    if p.k == "varint" then
        local v = read_varint(r, p.max)
        if type(v) ~= "number" then fail("length over the limit") end
        return v
    end
    return read_int(r, p)
end

local function until_(r, delim, max_line)
    local start = r.pos
    local avail = r.stop - r.pos
    local window = math.min(avail, max_line + #delim)
    local s = window > 0 and r.tvb(r.pos, window):raw() or ""
    local i = string.find(s, delim, 1, true)
    if i and i - 1 <= max_line then
        r.pos = start + i - 1 + #delim
        return start, i - 1
    end
    if window > max_line then fail("line longer than the limit") end
    need(r, avail + 1)
end

local function parse_decimal(text)
    if not string.match(text, "^%-?%d+$") then fail("not a decimal integer: " .. text) end
    return tonumber(text)
end

local function bits(w, lo, hi)
    return math.floor(w / 2 ^ lo) % 2 ^ (hi - lo)
end

local decode_type, decode_message, json_struct

-- Adds value `v` of field `f` over range `rg` (64-bit fields take Int64 and UInt64).
local function add(tree, f, rg, v)
    local wide = W64[f]
    if wide and type(v) == "number" then v = wide.new(v) end
    local item = tree:add(f, rg, v)
    -- Flags: each named bit, read from the value's own bytes.
    local bits = BITS[f]
    if bits and rg:len() == bits.width then
        for _, b in ipairs(bits) do
            if bits.le then item:add_le(b, rg) else item:add(b, rg) end
        end
    end
    return item
end

-- Adds a leaf to `tree` (when there is one) for field `f`, over [s, e).
local function leaf(tree, f, r, s, e, v)
    if not tree or not f then return end
    local rg = r.tvb(s, e - s)
    if v == nil then
        tree:add(f, rg)
    elseif type(v) == "table" and v.bytes then
        tree:add(f, rg)
    else
        add(tree, f, rg, v)
    end
end

-- A composite part: an item of field `f` (FT_NONE) whose length is set once it is read.
local function node(tree, f, r)
    if not tree or not f then return nil end
    return tree:add(f, r.tvb(r.pos, 0))
end

local function close(item, r, s)
    if item then item:set_len(r.pos - s) end
end

local function is_leaf(t)
    if t.k == "named" then
        local d = D.types[t.i]
        return d.kind == "enum" or d.kind == "flags"
    end
    if t.k == "opt" then return is_leaf(t.inner) end
    return t.k ~= "list" and t.k ~= "map"
end

-- A value of type `t`. `fs` holds the ProtoFields of where it is shown: `fs.f` the value
-- (or its item), `fs.item`, `fs.key`, `fs.val` an element's, a key's, a value's.
decode_type = function(r, t, tree, fs)
    local s = r.pos
    if t.k == "int" then
        local v = read_int(r, t)
        leaf(tree, fs.f, r, s, r.pos, v)
        return v
    elseif t.k == "varint" then
        local v = read_varint(r, t.max)
        if t.s and type(v) == "number" then
            if v % 2 == 1 then v = -(v + 1) / 2 else v = v / 2 end
        end
        leaf(tree, fs.f, r, s, r.pos, v)
        return v
    elseif t.k == "bool" then
        need(r, 1)
        local b = r.tvb(r.pos, 1):uint()
        if b > 1 then fail("a bool byte other than 0 or 1") end
        r.pos = r.pos + 1
        leaf(tree, fs.f, r, s, r.pos, b == 1)
        return b == 1
    elseif t.k == "str" or t.k == "bytes" then
        local n
        if t.pre then
            n = read_prefix(r, t.pre)
            if n < 0 then fail("negative length") end
            if n > D.limits.string then fail("length over the limit") end
            if t.max and n > t.max then fail("length over the maximum") end
        else
            n = r.stop - r.pos
        end
        local vs = r.pos
        need(r, n)
        r.pos = r.pos + n
        local v = n > 0 and r.tvb(vs, n):raw() or ""
        if t.k == "str" then
            leaf(tree, fs.f, r, vs, r.pos, v)
        else
            leaf(tree, fs.f, r, vs, r.pos, { bytes = true })
        end
        return v
    elseif t.k == "list" then
        local item = node(tree, fs.f, r)
        local out = {}
        local efs = { f = fs.item, item = fs.item, key = fs.key, val = fs.val }
        local sub = item or tree
        if t.cnt then
            local n = read_prefix(r, t.cnt)
            if n < 0 or n > D.limits.collection then fail("count over the limit") end
            for _ = 1, n do out[#out + 1] = decode_type(r, t.e, sub, efs) end
        else
            while r.pos < r.stop do out[#out + 1] = decode_type(r, t.e, sub, efs) end
        end
        close(item, r, s)
        return out
    elseif t.k == "map" then
        local item = node(tree, fs.f, r)
        local sub = item or tree
        local out = {}
        local function entry()
            local k = decode_type(r, t.key, sub, { f = fs.key })
            local v = decode_type(r, t.val, sub, { f = fs.val })
            out[#out + 1] = { k, v }
        end
        if t.cnt then
            local n = read_prefix(r, t.cnt)
            if n < 0 or n > D.limits.collection then fail("count over the limit") end
            for _ = 1, n do entry() end
        else
            while r.pos < r.stop do entry() end
        end
        close(item, r, s)
        return out
    elseif t.k == "opt" then
        if t.presence then
            need(r, 1)
            local b = r.tvb(r.pos, 1):uint()
            r.pos = r.pos + 1
            if b == 0 then return nil end
            if b > 1 then fail("a presence byte other than 0 or 1") end
        end
        return decode_type(r, t.inner, tree, fs)
    elseif t.k == "named" then
        local d = D.types[t.i]
        if d.kind == "enum" or d.kind == "flags" then
            local v = read_int(r, d.repr)
            if d.kind == "enum" and not d.open and d.vals[v] == nil then
                fail(string.format("%s: no variant has the value %d", d.name, v))
            end
            leaf(tree, fs.f, r, s, r.pos, v)
            return v
        end
        local item = node(tree, fs.f, r)
        local v = decode_message(r, t.i, item or tree)
        close(item, r, s)
        return v
    end
    fail("unknown type " .. tostring(t.k))
end

-- ---- JSON (a struct's `encoding X json`) ----

local function json_value(src, i, tvb, base)
    local function ws()
        i = string.find(src, "[^ \t\r\n]", i) or (#src + 1)
    end
    ws()
    local c = src:sub(i, i)
    local s = i
    if c == "{" then
        local obj, keys = {}, {}
        i = i + 1
        ws()
        if src:sub(i, i) == "}" then return { t = "obj", v = obj, keys = keys, s = s, e = i + 1 }, i + 1 end
        while true do
            ws()
            local k
            k, i = json_value(src, i, tvb, base)
            if k.t ~= "str" then fail("a JSON key that is not a string") end
            ws()
            if src:sub(i, i) ~= ":" then fail("expected `:` in JSON") end
            local v
            v, i = json_value(src, i + 1, tvb, base)
            if obj[k.v] == nil then keys[#keys + 1] = k.v end
            obj[k.v] = v
            ws()
            local d = src:sub(i, i)
            i = i + 1
            if d == "}" then break end
            if d ~= "," then fail("expected `,` or `}` in JSON") end
        end
        return { t = "obj", v = obj, keys = keys, s = s, e = i }, i
    elseif c == "[" then
        local arr = {}
        i = i + 1
        ws()
        if src:sub(i, i) == "]" then return { t = "arr", v = arr, s = s, e = i + 1 }, i + 1 end
        while true do
            local v
            v, i = json_value(src, i, tvb, base)
            arr[#arr + 1] = v
            ws()
            local d = src:sub(i, i)
            i = i + 1
            if d == "]" then break end
            if d ~= "," then fail("expected `,` or `]` in JSON") end
        end
        return { t = "arr", v = arr, s = s, e = i }, i
    elseif c == '"' then
        local out = {}
        i = i + 1
        while true do
            local ch = src:sub(i, i)
            if ch == "" then fail("unterminated JSON string") end
            if ch == '"' then break end
            if ch == "\\" then
                local esc = src:sub(i + 1, i + 1)
                local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
                if esc == "u" then
                    local cp = tonumber(src:sub(i + 2, i + 5), 16) or 0
                    if cp < 0x80 then
                        out[#out + 1] = string.char(cp)
                    elseif cp < 0x800 then
                        out[#out + 1] = string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
                    else
                        out[#out + 1] = string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64)
                    end
                    i = i + 6
                else
                    out[#out + 1] = map[esc] or esc
                    i = i + 2
                end
            else
                out[#out + 1] = ch
                i = i + 1
            end
        end
        return { t = "str", v = table.concat(out), s = s, e = i + 1 }, i + 1
    else
        local lit = string.match(src, "^[%w%.%+%-]+", i)
        if not lit then fail("not JSON") end
        local e = i + #lit
        if lit == "true" or lit == "false" then return { t = "bool", v = lit == "true", s = s, e = e }, e end
        if lit == "null" then return { t = "null", s = s, e = e }, e end
        local n = tonumber(lit)
        if not n then fail("not JSON: " .. lit) end
        return { t = "num", v = n, s = s, e = e }, e
    end
end

-- Shows a JSON value `j` (its bytes at `base` + offsets) as type `t`.
local function json_show(r, base, j, t, tree, fs, enc)
    local function rg() return r.tvb(base + j.s - 1, j.e - j.s) end
    if j.t == "null" then return nil end
    if t.k == "opt" then return json_show(r, base, j, t.inner, tree, fs, enc) end
    if t.k == "named" then
        local d = D.types[t.i]
        if d.kind == "struct" then
            local item = tree and fs.f and tree:add(fs.f, rg()) or tree
            return json_struct(r, base, j, t.i, enc, item)
        end
        if d.kind == "enum" then
            local v = j.v
            if j.t == "str" then v = d.names[j.v] end
            if tree and fs.f and v then add(tree, fs.f, rg(), v) end
            return v
        end
    end
    if j.t == "arr" and (t.k == "list" or t.k == "bytes") then
        local item = tree and fs.f and t.k == "list" and tree:add(fs.f, rg()) or nil
        local out = {}
        for _, x in ipairs(j.v) do
            if t.k == "list" then
                out[#out + 1] = json_show(r, base, x, t.e, item, { f = fs.item }, enc)
            else
                out[#out + 1] = string.char(x.v % 256)
            end
        end
        if t.k == "bytes" and tree and fs.f then tree:add(fs.f, rg()) end
        return out
    end
    if j.t == "obj" and t.k == "map" then
        local item = tree and fs.f and tree:add(fs.f, rg()) or nil
        for _, k in ipairs(j.keys) do
            local x = j.v[k]
            if item and fs.key then item:add(fs.key, r.tvb(base + x.s - 1, x.e - x.s), k) end
            json_show(r, base, x, t.val, item, { f = fs.val }, enc)
        end
        return j.v
    end
    local v = j.v
    if t.k == "str" and j.t ~= "str" then v = tostring(v) end
    if t.k == "bool" and j.t ~= "bool" then v = nil end
    if tree and fs.f and v ~= nil then add(tree, fs.f, rg(), v) end
    return v
end

json_struct = function(r, base, j, ti, enc, tree)
    local d = D.types[ti]
    local e = d.json[enc]
    local L = {}
    if j.t ~= "obj" then return L end
    for _, m in ipairs(e) do
        local x = j.v[m.wire]
        if x then L[m.name] = json_show(r, base, x, m.ty, tree, F[d.name .. "." .. m.name] or {}, enc) end
    end
    return L
end

local function decode_json(r, ti, enc, tree)
    local s = r.pos
    local n = r.stop - r.pos
    local src = n > 0 and r.tvb(s, n):raw() or ""
    r.pos = r.stop
    local j = json_value(src, 1, r.tvb, s)
    return json_struct(r, s, j, ti, enc, tree)
end

-- ---- structs, unions, tagged lists ----

local function decode_struct(r, ti, tree)
    local d = D.types[ti]
    local L = {}
    local lens = {}
    local stack = { r }
    local function cur() return stack[#stack] end
    local function open_region(len)
        local l = lens[len]
        if l < 0 then fail("negative length") end
        stack[#stack + 1] = region(cur(), l)
    end
    for _, f in ipairs(d.fields) do
        local fs = F[d.name .. "." .. f.n] or {}
        if f.from_starts then open_region(f.from_starts) end
        local c = cur()
        local s = c.pos
        if f.k == "literal" then
            if not f.cond or f.cond(L, c) then
                need(c, #f.lit)
                if c.tvb(c.pos, #f.lit):raw() ~= f.lit then fail("expected the literal " .. f.lit) end
                c.pos = c.pos + #f.lit
                leaf(tree, fs.f, c, s, c.pos, { bytes = true })
            end
        elseif f.k == "const" then
            local v = read_word(c, f.int)
            if v ~= f.value then fail(string.format("%s: %d where %d belongs", f.n, v, f.value)) end
            leaf(tree, fs.f, c, s, c.pos, v)
        elseif f.k == "length" then
            local v
            if f.decimal then
                if f.region.k == "until" then
                    local ls, ln = until_(c, f.region.delim, D.limits.line)
                    v = parse_decimal(ln > 0 and c.tvb(ls, ln):raw() or "")
                else
                    v = parse_decimal(c.tvb(c.pos, c.stop - c.pos):raw())
                    c.pos = c.stop
                end
            else
                v = read_prefix(c, f.pre)
            end
            lens[f.n] = v
            L[f.n] = v
            leaf(tree, fs.f, c, s, c.pos, v)
            if f.rest then open_region(f.n) end
        elseif f.k == "bits" then
            local w = read_word(c, f.int)
            local item = tree and fs.f and tree:add(fs.f, c.tvb(s, c.pos - s), W64[fs.f] and W64[fs.f].new(w) or w) or nil
            for _, p in ipairs(f.parts) do
                local v = bits(w, p.lo, p.hi)
                if p.k == "const" then
                    if v ~= p.value then fail(string.format("%s: %d where %d belongs", p.n, v, p.value)) end
                elseif p.k == "length" then
                    lens[p.n] = v
                    L[p.n] = v
                elseif p.k == "present" then
                    L[p.n] = v ~= 0
                else
                    if p.signed and v >= 2 ^ (p.hi - p.lo - 1) then v = v - 2 ^ (p.hi - p.lo) end
                    local e = p.enum_i and D.types[p.enum_i]
                    if e and not e.open and e.vals[v] == nil then
                        fail(string.format("%s: no variant has the value %d", p.n, v))
                    end
                    L[p.n] = p.bool and (v ~= 0) or v
                end
                local pf = F[d.name .. "." .. p.n]
                if item and pf then leaf(item, pf.f, c, s, c.pos, p.bool and (v ~= 0) or v) end
            end
            for _, p in ipairs(f.parts) do
                if p.rest then open_region(p.n) end
            end
        else
            -- A stored value, or a struct encoded as its discriminator says.
            local on = true
            if f.cond then on = f.cond(L, c) end
            if on then
                local rd = c
                local sized = f.sized_by
                local sub
                if sized then
                    local n = lens[sized]
                    if n < 0 then fail("negative length") end
                    if f.text and n > D.limits.string then fail("length over the limit") end
                    sub = region(c, n)
                    rd = sub
                elseif f.region.k == "prefixed" then
                    local n = read_prefix(c, f.region.pre)
                    if n < 0 then fail("negative length") end
                    sub = region(c, n)
                    rd = sub
                elseif f.region.k == "rest" and not f.rest_inline then
                    rd = region(c, c.stop - c.pos)
                end
                local v
                local vs = rd.pos
                if f.decimal then
                    local text
                    if f.region.k == "until" then
                        local ls, ln = until_(rd, f.region.delim, D.limits.line)
                        text = ln > 0 and rd.tvb(ls, ln):raw() or ""
                    else
                        text = rd.tvb(rd.pos, rd.stop - rd.pos):raw()
                        rd.pos = rd.stop
                    end
                    v = parse_decimal(text)
                    leaf(tree, fs.f, rd, vs, rd.pos, v)
                elseif f.region.k == "until" then
                    local ls, ln = until_(rd, f.region.delim, D.limits.line)
                    v = ln > 0 and rd.tvb(ls, ln):raw() or ""
                    if tree and fs.f then
                        if f.ty.k == "bytes" then
                            tree:add(fs.f, rd.tvb(ls, ln))
                        else
                            tree:add(fs.f, rd.tvb(ls, ln), v)
                        end
                    end
                elseif f.region.k == "count" then
                    local n = num(lens[f.region.n] or L[f.region.n])
                    if n < 0 or n > D.limits.collection then fail("count over the limit") end
                    local item = node(tree, fs.f, rd)
                    local out = {}
                    for _ = 1, n do
                        out[#out + 1] = decode_type(rd, f.ty.e, item or tree, { f = fs.item, item = fs.item })
                    end
                    close(item, rd, vs)
                    v = out
                elseif f.k == "switch" then
                    local enc = f.arms[num(L[f.disc])]
                    if enc == nil then fail("no encoding for the discriminator's value") end
                    local item = node(tree, fs.f, rd)
                    if enc == "binary" then
                        v = decode_message(rd, f.sw, item or tree)
                    else
                        v = decode_json(rd, f.sw, enc, item or tree)
                    end
                    close(item, rd, vs)
                else
                    v = decode_type(rd, f.ty, tree, fs)
                end
                if sub then finish(sub) end
                if f.version and type(v) == "number" then c.version = v end
                L[f.n] = v
            end
        end
    end
    for k = #stack, 2, -1 do finish(stack[k]) end
    return L
end

local function decode_union(r, ti, tree)
    local d = D.types[ti]
    if d.rec then
        r.depth = r.depth + 1
        if r.depth > D.limits.depth then fail("nested deeper than the limit") end
    end
    local arm
    if d.sided then
        arm = d.sided[r.sender or ""]
        if not arm then fail("which side sent the bytes is not known") end
    else
        need(r, d.width)
        local rg = r.tvb(r.pos, d.width)
        local w = d.le and rg:le_uint() or rg:uint()
        local key = 0
        local m, kb = d.mask, 1
        while m > 0 do
            if m % 2 == 1 and math.floor(w / kb) % 2 == 1 then key = key + kb end
            m = math.floor(m / 2)
            kb = kb * 2
        end
        for _, a in ipairs(d.arms) do
            if not a.fallback and a.key == key then arm = a.ty; break end
        end
        if not arm then
            for _, a in ipairs(d.arms) do
                if a.fallback then arm = a.ty end
            end
        end
        if not arm then fail(string.format("%s: no member has the key 0x%x", d.name, key)) end
    end
    local s = r.pos
    local mf = F[d.name .. "." .. D.types[arm].name]
    local item = node(tree, mf and mf.f, r)
    local v = decode_message(r, arm, item or tree)
    close(item, r, s)
    if d.rec then r.depth = r.depth - 1 end
    return v
end

local function decode_tagged(r, ti, tree)
    local d = D.types[ti]
    local out = {}
    while r.pos < r.stop do
        local tag = read_prefix(r, d.tag)
        local m = d.members[tag]
        if not m then fail(string.format("%s: unknown tag 0x%x", d.name, tag)) end
        out[m.name] = decode_type(r, m.ty, tree, F[d.name .. "." .. m.name] or {})
    end
    return out
end

decode_message = function(r, ti, tree)
    local d = D.types[ti]
    if d.kind == "struct" then return decode_struct(r, ti, tree) end
    if d.kind == "union" then return decode_union(r, ti, tree) end
    if d.kind == "tagged" then return decode_tagged(r, ti, tree) end
    fail("not a message")
end

-- ---- frames ----

-- The length of the frame at `off`: a number, nil for "need more", or an error.
local function frame_len(tvb, off, sender)
    local len = tvb:len() - off
    local pr = D.probe
    if pr then
        local p = off
        for _, step in ipairs(pr) do
            if step.k == "skip" then
                if p + step.n > tvb:len() then return nil end
                p = p + step.n
            elseif step.k == "varint" then
                local r = reader(tvb, p, tvb:len(), true)
                local ok, v = pcall(read_varint, r, step.max)
                if not ok then
                    if v == INCOMPLETE then return nil end
                    error(v, 0)
                end
                if step.len then
                    local total = r.pos - off + v
                    if total > D.limits.frame then fail("frame longer than the limit") end
                    return total
                end
                p = r.pos
            else
                if p + step.int.b > tvb:len() then return nil end
                local r = reader(tvb, p, tvb:len(), false)
                local v = read_int(r, step.int)
                if step.const and read_word(reader(tvb, p, tvb:len(), false), step.int) ~= step.const then
                    fail("not this protocol's constant")
                end
                p = r.pos
                if step.len then
                    if v < 0 then fail("negative length") end
                    local total = p - off + v
                    if total > D.limits.frame then fail("frame longer than the limit") end
                    return total
                end
            end
        end
        return nil
    end
    local r = reader(tvb, off, tvb:len(), true, 0, sender)
    local ok, err = pcall(decode_message, r, D.frame, nil)
    if ok then return r.pos - off end
    if err == INCOMPLETE then
        if len > D.limits.frame then fail("frame longer than the limit") end
        return nil
    end
    error(err, 0)
end

local function sender_of(pinfo)
    if not D.sided then return nil end
    local port = P.prefs.port
    if port ~= 0 and pinfo.dst_port == port then return "client" end
    if port ~= 0 and pinfo.src_port == port then return "server" end
    return nil
end

function P.dissector(tvb, pinfo, tree)
    local off = 0
    local total = tvb:len()
    local sender = sender_of(pinfo)
    while off < total do
        local ok, n = pcall(frame_len, tvb, off, sender)
        if not ok then
            local item = tree:add(P, tvb(off, total - off))
            item:add_expert_info(PI_MALFORMED, PI_ERROR, type(n) == "table" and n.msg or tostring(n))
            return total
        end
        if n == nil then
            pinfo.desegment_offset = off
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            return total
        end
        if off + n > total then
            pinfo.desegment_offset = off
            pinfo.desegment_len = off + n - total
            return total
        end
        pinfo.cols.protocol = D.short
        local item = tree:add(P, tvb(off, n))
        local r = reader(tvb, off, off + n, false, 0, sender)
        local ok2, err = pcall(decode_message, r, D.frame, item)
        if not ok2 then
            item:add_expert_info(PI_MALFORMED, PI_ERROR, type(err) == "table" and err.msg or tostring(err))
        end
        off = off + n
    end
    return total
end

-- The protocol's `detect` rules: any one set, each rule holding.
local function detected(tvb)
    for _, set in ipairs(D.detect) do
        local all = true
        for _, rule in ipairs(set) do
            if tvb:len() < rule.at + #rule.bytes or tvb(rule.at, #rule.bytes):raw() ~= rule.bytes then
                all = false
                break
            end
        end
        if all then return true end
    end
    return false
end

local function heuristic(tvb, pinfo, tree)
    if #D.detect == 0 or not detected(tvb) then return false end
    P.dissector(tvb, pinfo, tree)
    return true
end

P.prefs.port = Pref.uint("TCP port", 0, "The TCP port of the protocol's server (0: found by its first bytes only)")

local registered = 0

function P.prefs_changed()
    local t = DissectorTable.get("tcp.port")
    if registered ~= 0 then t:remove(registered, P) end
    registered = P.prefs.port
    if registered ~= 0 then t:add(registered, P) end
end

P:register_heuristic("tcp", heuristic)
DissectorTable.get("tcp.port"):add_for_decode_as(P)
