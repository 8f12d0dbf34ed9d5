"""The long-running services of a worker process: the dispatcher, the courier, retention, the
working-hours clock's starter, and the loop they share (services.loops)."""
