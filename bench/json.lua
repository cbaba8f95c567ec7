-- wrk script: a JSON Micropub create, the same post as ../shared/bench/post.lua sends as a form.
-- Set the token with: TOKEN=... wrk ... -s json.lua
wrk.method = "POST"
wrk.body   = '{"type":["h-entry"],"properties":{"content":["Hello world this is a test post"],"category":["a","b"]}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("TOKEN") or "none")
