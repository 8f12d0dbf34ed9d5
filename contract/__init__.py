"""The outward contract: the shapes Switchboard answers and publishes, and the functions that
build them: answers' base (camelCase, UTC times), the conversation, its timeline events, a
message, an agent, and the envelope of an event out, rendered once per audience.

It imports pydantic, domain and the stdlib only: the API answers with it, the store publishes
with it (in the worker too), and it knows neither, nor FastAPI. It reads rows by attribute
(its `...Record` protocols), so it needs no store types either."""
