-- wrk script: hold one long-poll per pending login, re-poll the same login when its
-- long-poll times out, and log when each answer comes back.
--
--   wrk -t T -c C -d 300s --timeout 120s -s bench/wrk_hold.lua URL -- FILE T [LOG [WAIT]]
--
-- Each line of FILE is a login id; thread n of T takes lines n, n+T, …  The first C lines
-- are held at once (one connection each); a long-poll that answers ``challenge`` (its
-- wait ended) is sent again for the same login; one that answers ``authenticated`` (an
-- approval woke it) makes its connection take the next unused line, so C long-polls stay
-- held throughout (WAIT: the seconds each long-poll asks for, 60 unless given).  With
-- LOG (not empty), thread n appends to LOG-n.txt one line per answer:
--   C <monotonic ns>                 a re-poll (the wait ended with ``challenge``)
--   A <monotonic ns> <login id>      an approval completed the long-poll
--   E <monotonic ns> <http status>   anything else
-- (CLOCK_MONOTONIC, the clock of Python's time.monotonic_ns: bench/hold_bench.py matches
-- these times with the approvals it sends.)  wrk's C event loop keeps 10,000 connections
-- for a few % of a core, where one Python process with httpx needed most of one.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } hold_timespec;
  int clock_gettime(int clk_id, hold_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("hold_timespec")

local function now_ns()
    ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
    return string.format("%d%09d", tonumber(ts.tv_sec), tonumber(ts.tv_nsec))
end

local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

local function poll(login_id)
    return wrk.format("GET", "/api/v1/logins/" .. login_id .. "?wait=" .. wait)
end

function init(args)
    local file, nthreads, log = args[1], tonumber(args[2]), args[3]
    wait = args[4] or "60"
    items = {}
    local n = 0
    for line in io.lines(file) do
        if n % nthreads == id then
            table.insert(items, line)
        end
        n = n + 1
    end
    sent = 0
    again = {}
    out = nil
    if log and log ~= "" then
        out = io.open(log .. "-" .. id .. ".txt", "a")
        out:setvbuf("line")
    end
end

function request()
    local n = #again
    if n > 0 then
        local login_id = again[n]
        again[n] = nil
        return poll(login_id)
    end
    sent = sent + 1
    return poll(items[(sent - 1) % #items + 1])
end

function response(status, headers, body)
    local login_id = body:match('"login_id":"([^"]+)"')
    local state = body:match('"status":"(%a+)"')
    if status == 200 and state == "challenge" then
        table.insert(again, login_id)
        if out then out:write("C ", now_ns(), "\n") end
    elseif status == 200 and state == "authenticated" then
        if out then out:write("A ", now_ns(), " ", login_id, "\n") end
    else
        if login_id then table.insert(again, login_id) end
        if out then out:write("E ", now_ns(), " ", status, "\n") end
    end
end
