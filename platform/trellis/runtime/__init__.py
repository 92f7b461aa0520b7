"""Running Trellis: the app factory, Celery, embedded servers, web server and worker processes."""
