-- wrk script: one POST per line of a request file, each line used once.
--
--   wrk -t T -c C -d 120s -s bench/wrk_answer.lua URL -- FILE T
--
-- Each line of FILE is "PATH<TAB>JSON BODY" (bench/wrk_bench.py writes them: a
-- second-factor answer of a login opened beforehand, or a bare endpoint's challenge).
-- Thread n of T takes lines n, n+T, n+2T, ...; a thread stops once every line it
-- sent was answered, so the run measures exactly those requests.  done() prints one
-- line "WRKJSON {...}" (latencies in microseconds, answers by status class).
--
-- wrk's main thread sleeps for the whole -d duration even when every thread stopped,
-- so each thread prints "WRKDONE" when its last answer came; the caller then sends
-- SIGINT, which ends the sleep (bench/wrk_bench.py).  The duration is taken from the
-- first request to the last answer (nanoseconds from `date`, once per thread).

local threads = {}

local function now_ns()
    local pipe = io.popen("date +%s%N")
    local value = tonumber(pipe:read("*l"))
    pipe:close()
    return value
end
local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
    table.insert(threads, thread)
end

function init(args)
    local file, nthreads = args[1], tonumber(args[2])
    items = {}
    local n = 0
    for line in io.lines(file) do
        if n % nthreads == id then
            local path, body = line:match("^([^\t]+)\t(.*)$")
            table.insert(items, wrk.format("POST", path, {["Content-Type"] = "application/json"}, body))
        end
        n = n + 1
    end
    sent, answered, ok, failed = 0, 0, 0, 0
    verified = false
    -- never sent (delay() holds such a connection back); a route that neither server
    -- has, so its 404 would tell it apart (no line of the file gets a 404)
    spare = wrk.format("GET", "/wrk-spare-not-counted")
end

-- once every line is out, a connection that asks for more waits "forever" (the thread
-- stops first), so nothing but the file's requests reaches the server
function delay()
    if sent >= #items then
        return 100000000
    end
    return 0
end

function request()
    if id == 0 and not verified then
        -- wrk calls request() once on thread 0 before the run to check the script
        -- (script_verify_request); that request is never sent, so it takes no line
        verified = true
        return items[1] or spare
    end
    if sent == 0 then
        t0 = now_ns()
    end
    sent = sent + 1
    if sent > #items then
        return spare
    end
    return items[sent]
end

function response(status, headers, body)
    if status == 404 then
        return
    end
    answered = answered + 1
    if status == 200 then ok = ok + 1 else failed = failed + 1 end
    if answered == #items then
        t1 = now_ns()
        io.write("WRKDONE\n")
        io.flush()
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local ok_all, failed_all, first, last = 0, 0, nil, nil
    for _, thread in ipairs(threads) do
        ok_all = ok_all + thread:get("ok")
        failed_all = failed_all + thread:get("failed")
        local a, b = thread:get("t0"), thread:get("t1")
        if a ~= nil and (first == nil or a < first) then first = a end
        if b ~= nil and (last == nil or b > last) then last = b end
    end
    local measured = summary.duration
    if first ~= nil and last ~= nil then measured = (last - first) / 1000 end
    io.write(string.format(
        'WRKJSON {"requests": %d, "duration_us": %d, "ok": %d, "failed": %d, '
            .. '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, '
            .. '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d}\n',
        summary.requests, measured, ok_all, failed_all,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
        latency.mean, summary.errors.connect, summary.errors.read, summary.errors.write,
        summary.errors.timeout))
end
