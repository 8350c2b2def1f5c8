-- wrk script: hold one long-poll per line of a request file.
--
--   wrk -t T -c C -d 90s --timeout 120s -s bench/wrk_hold.lua URL -- FILE T
--
-- Each line of FILE is a path (GET /api/v1/logins/{id}?wait=60); thread n of T takes
-- lines n, n+T, …; with C = the number of lines every connection holds one long-poll
-- (a connection whose long-poll ended asks for the next line of its thread, round robin).
-- wrk's C event loop keeps 10,000 connections for a few % of a core, where one Python
-- process with httpx needed most of one (bench/push_bench.py).

local counter = 0

function setup(thread)
    thread:set("id", counter)
    counter = counter + 1
end

function init(args)
    local file, nthreads = args[1], tonumber(args[2])
    items = {}
    local n = 0
    for line in io.lines(file) do
        if n % nthreads == id then
            table.insert(items, wrk.format("GET", line))
        end
        n = n + 1
    end
    sent = 0
end

function request()
    sent = sent + 1
    return items[(sent - 1) % #items + 1]
end
