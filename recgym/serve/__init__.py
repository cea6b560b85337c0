"""Serving recgym envs over HTTP (``recgym serve``) and using them remotely (``RecGym-Remote-v0``).

Modules: ``app`` (the FastAPI routes), ``sessions`` (one env per client, bounded, idle expiry),
``codec`` (spaces and values as JSON), ``rating_protocol`` (the course's ``/reset`` and
``/predict``), ``body_limit`` (request size limit), ``server`` (uvicorn, foreground or background
thread), ``client`` (the remote env). The server needs the ``serve`` extra
(``pip install 'recgym[serve]'``: fastapi, uvicorn, httpx); nothing here is imported by
``import recgym``, and ``codec`` needs only gymnasium and NumPy.
"""
