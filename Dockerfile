FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WEBCARE_DATA_DIR=/var/lib/webcare
WORKDIR /app
COPY pyproject.toml README.md ./
COPY webcare webcare
COPY inbox inbox
COPY channels channels
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --system --home /app webcare && mkdir -p /var/lib/webcare && chown webcare /var/lib/webcare
USER webcare
RUN DEBUG=1 python manage.py collectstatic --noinput -v0
EXPOSE 8000
CMD ["gunicorn", "webcare.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
