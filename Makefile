# Shortcuts for the scripts; each target works on a fresh Debian machine (the scripts install
# what is missing). The README's two commands are scripts/run.sh and scripts/test.sh.
.PHONY: run test setup db-start db-stop psql check-deps fuzz bench bench-firing bench-http bench-scheduler bench-filter bench-board bench-webhooks bench-cron bench-million

run:
	scripts/run.sh

test:
	scripts/test.sh

setup:
	scripts/setup.sh

db-start:
	scripts/postgres.sh start

db-stop:
	scripts/postgres.sh stop

psql:
	scripts/postgres.sh psql

check-deps:
	scripts/check-dependencies.sh

# Fuzz the HTTP request parser: make fuzz SECONDS=600
fuzz:
	scripts/fuzz.sh $(or $(SECONDS),60)

# Every figure of issue 16 ("fast with the lights on") and one table of them.
bench:
	scripts/bench.sh

bench-firing:
	scripts/bench-firing.sh

bench-http:
	scripts/bench-http.sh

bench-scheduler:
	scripts/bench-scheduler.sh

bench-filter:
	scripts/bench-filter.sh

bench-board:
	scripts/bench-board.sh

bench-webhooks:
	scripts/bench-webhooks.sh

bench-cron:
	scripts/bench-cron.sh

bench-million:
	scripts/bench-million.sh
