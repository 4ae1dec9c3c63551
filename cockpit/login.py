"""The sign-in page: plain HTML served by Flask (works before any script loads), Chinese
first, no external assets."""
from __future__ import annotations

from html import escape

_TEXT = {"zh": ("医院运营驾驶舱", "登录", "用户名", "密码", "English"),
         "en": ("Hospital Operations Cockpit", "Sign in", "User name", "Password", "中文")}


def login_page(error: str = "", lang: str = "zh") -> str:
    title, sign_in, user, pw, other = _TEXT.get(lang, _TEXT["zh"])
    other_lang = "en" if lang == "zh" else "zh"
    err = f'<p class="error" id="login-error">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · {sign_in}</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
  background: #f0f2f5; display: flex; align-items: center; justify-content: center;
  min-height: 100vh; margin: 0; }}
form {{ background: #fff; padding: 32px 40px; border-radius: 8px; width: 320px;
  box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
h1 {{ font-size: 22px; margin: 0 0 24px; color: #1f3b63; }}
label {{ display: block; margin: 12px 0 4px; color: #555; font-size: 14px; }}
input {{ width: 100%; padding: 8px; box-sizing: border-box; font-size: 15px;
  border: 1px solid #ccd; border-radius: 4px; }}
button {{ margin-top: 20px; width: 100%; padding: 10px; background: #1f6feb; color: #fff;
  border: 0; border-radius: 4px; font-size: 16px; cursor: pointer; }}
.error {{ color: #c0392b; font-size: 14px; }} .lang {{ float: right; font-size: 13px; }}
</style></head><body>
<form method="post" id="login-form">
<a class="lang" href="/login?lang={other_lang}">{other}</a>
<h1>{title}</h1>{err}
<label for="username">{user}</label><input id="username" name="username" autofocus>
<label for="password">{pw}</label><input id="password" name="password" type="password">
<button type="submit" id="login-submit">{sign_in}</button>
</form></body></html>"""
