"""The wallboard (运营大屏): the big screen leadership watches in the command centre and on
office TVs, served by the cockpit's server at `/wallboard` and `/wallboard/<playlist>`.

- `wallboard.playlists`: YAML playlists (pages, seconds each, campus), validated with file:line;
- `wallboard.tokens`: per-screen kiosk tokens (read-only access without a login, optionally
  limited to one campus), kept hashed in the warehouse table `_kiosk_tokens`;
- `wallboard.layouts`: the 1920×1080 design canvas and its pages (built from
  `cockpit.figures` and `cockpit.data.q`);
- `cockpit/pages/wallboard.py` registers the routes and the callbacks;
  `cockpit/assets/wallboard.{css,js}` scale the canvas, animate numbers and keep the last data
  with a stale marker while the server is unreachable.
"""
