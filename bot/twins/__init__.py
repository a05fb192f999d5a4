"""Platform twins: real local HTTP servers that speak WeCom's (and later DingTalk's) protocols.

They encrypt and sign callbacks exactly as the platform does, serve its send APIs and record
what the app sent. Tests drive every feature through them; `linerelay sandbox` uses them too.
"""
