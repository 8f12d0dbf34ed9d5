# One image for both the API and the worker; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain domain
COPY store store
COPY workflows workflows
COPY activities activities
COPY api api
COPY switchboard switchboard
RUN pip install --no-cache-dir .
ENV SWITCHBOARD_API_HOST=0.0.0.0
EXPOSE 8000
CMD ["switchboard", "api"]
