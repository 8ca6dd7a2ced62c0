-- wrk: POST /api/v1/jobs replacing one job, again and again (scripts/bench-http.sh).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"job_id":"bench-write","handler":"FlowScheduling","when":"2030-01-01 02:00","periodically":"1 day","kwargs":{"flow_name":"bayesianFlow","flow_arguments":[{"ecosystem":"npm","name":"serve-static"}]}}'
