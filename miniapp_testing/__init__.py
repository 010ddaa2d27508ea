"""The e2e kit: a Reflex Mini App run as it is served, opened inside an emulated Telegram
client in headless Chromium. README.md beside this file says how to use it in another
Reflex project.

- project.py: `Project`, what the kit needs to know of the app (this app's by default)
- server.py: `AppServer`, one app process; cluster.py: `Cluster`, N behind nginx
- host.py (+ host.js): `TelegramHost` and `Launch`, the emulated Telegram client
- telegram.py: initData signed as Telegram signs it, the launch hash, two themes
- plugin.py: the pytest fixtures (`miniapp`, `chromium`, `telegram`); ci.py: skip a test
  for a missing tool or service, or fail it under CI
- ports.py, redis_server.py, postgres.py: free ports, a private redis-server, fresh
  PostgreSQL databases, for tests and benches
"""
