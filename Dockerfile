# One image for every KPP process; the command picks the service or worker.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY ops ./ops
RUN pip install --no-cache-dir . && useradd --system --uid 10001 kpp
USER kpp
ENV KPP_HOST=0.0.0.0
EXPOSE 8000 8001 8002 8003 8004
CMD ["python", "-m", "ops.cli", "serve", "gateway"]
