-- wrk: POST /api/v1/jobs replacing one of 1,000 jobs picked at random, as pgbench -N updates
-- random accounts (scripts/bench-http.sh). The first request for each id creates it.
math.randomseed(os.time())
request = function()
  local body = string.format('{"job_id":"bench-write-%03d","handler":"FlowScheduling","when":"2030-01-01 02:00","periodically":"1 day","kwargs":{"flow_name":"bayesianFlow","flow_arguments":[{"ecosystem":"npm","name":"serve-static"}]}}', math.random(0, 999))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
