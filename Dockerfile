# One image for the API, the worker and the courier; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md requirements.lock ./
COPY domain domain
COPY contract contract
COPY store store
COPY workflows workflows
COPY activities activities
COPY api api
COPY console console
COPY services services
COPY switchboard switchboard
# The locked versions, each checked against its hash, then Switchboard itself.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && pip install --no-cache-dir --no-deps --no-build-isolation .
ENV SWITCHBOARD_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["switchboard", "api"]
