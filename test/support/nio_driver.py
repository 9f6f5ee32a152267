# A real E2EE Matrix client (matrix-nio with its crypto) driven over JSON lines
# on stdin/stdout by the jest tests: one request per line, one answer per line.
import asyncio
import json
import os
import re
import sys
import time
import urllib.parse

import aiohttp
from nio import AsyncClient, AsyncClientConfig, LoginResponse, RoomCreateResponse, RoomPreset, RoomVisibility
from nio.crypto.attachments import decrypt_attachment
from nio.events import Event, MegolmEvent

ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class Driver:
    def __init__(self):
        self.client = None
        self.events = {}  # room_id -> list of recorded timeline events
        self.sync_task = None
        self.synced = asyncio.Event()

    def record(self, room, event):
        src = event.source or {}
        self.events.setdefault(room.room_id, []).append({
            "event_id": event.event_id,
            "sender": event.sender,
            "type": src.get("type"),
            "class": type(event).__name__,
            "decrypted": bool(getattr(event, "decrypted", False)),
            "undecryptable": isinstance(event, MegolmEvent),
            "content": src.get("content", {}),
            "server_ts": getattr(event, "server_timestamp", None),
            "received_at": time.time() * 1000,
        })

    async def on_sync(self, _resp):
        self.synced.set()

    async def login(self, hs, user, password, store, device_id=None):
        os.makedirs(store, exist_ok=True)
        cfg = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        self.client = AsyncClient(hs, user, device_id=device_id, store_path=store, config=cfg)
        resp = await self.client.login(password, device_name="nio test client")
        if not isinstance(resp, LoginResponse):
            raise RuntimeError(f"login failed: {resp}")
        self.client.add_event_callback(self.record, Event)
        self.client.add_event_callback(self.record, MegolmEvent)
        self.client.add_response_callback(self.on_sync)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.sync_task = asyncio.create_task(self.client.sync_forever(timeout=3000))
        await asyncio.wait_for(self.synced.wait(), 30)
        return {"user_id": resp.user_id, "device_id": resp.device_id}

    async def next_sync(self):
        self.synced.clear()
        await asyncio.wait_for(self.synced.wait(), 30)

    async def create_room(self, invite, encrypted=True, direct=True):
        resp = await self.client.room_create(
            visibility=RoomVisibility.private,
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            invite=invite,
            initial_state=[ENCRYPTION] if encrypted else [],
        )
        if not isinstance(resp, RoomCreateResponse):
            raise RuntimeError(f"createRoom failed: {resp}")
        return {"room_id": resp.room_id}

    async def invite(self, room, user):
        await self.client.room_invite(room, user)
        return {}

    async def enable_encryption(self, room):
        await self.client.room_put_state(room, "m.room.encryption", ENCRYPTION["content"])
        await self.wait_until(lambda: room in self.client.rooms and self.client.rooms[room].encrypted, 30)
        return {}

    async def wait_until(self, cond, timeout):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise RuntimeError("timed out")
            await asyncio.sleep(0.05)

    async def wait_joined(self, room, user, timeout=30):
        await self.wait_until(lambda: room in self.client.rooms and user in self.client.rooms[room].users
                              and user not in self.client.rooms[room].invited_users, timeout)
        return {}

    async def send(self, room, body, msgtype="m.text"):
        await self.wait_until(lambda: room in self.client.rooms, 30)
        # The bot's device keys must be known before the room key is shared with it.
        if self.client.should_query_keys:
            await self.client.keys_query()
        resp = await self.client.room_send(room, "m.room.message", {"msgtype": msgtype, "body": body},
                                           ignore_unverified_devices=True)
        if not hasattr(resp, "event_id"):
            raise RuntimeError(f"send failed: {resp}")
        return {"event_id": resp.event_id, "encrypted": self.client.rooms[room].encrypted, "sent_at": time.time() * 1000}

    async def send_undecryptable(self, room):
        """A megolm event under a session nobody shared with the bot (its key never reaches it)."""
        import base64, secrets
        b64 = lambda n: base64.b64encode(secrets.token_bytes(n)).decode().rstrip("=")
        content = {"algorithm": "m.megolm.v1.aes-sha2", "sender_key": self.client.olm.account.identity_keys["curve25519"],
                   "device_id": self.client.device_id, "session_id": b64(32), "ciphertext": b64(120)}
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/send/m.room.encrypted/u{secrets.token_hex(8)}"
        async with aiohttp.ClientSession() as s:
            async with s.put(self.client.homeserver + path, json=content,
                             headers={"Authorization": f"Bearer {self.client.access_token}"}) as r:
                return {"event_id": (await r.json())["event_id"]}

    async def wait_event(self, room, sender, pattern=None, type=None, after=None, timeout=60):
        rx = re.compile(pattern) if pattern else None
        end = time.monotonic() + timeout
        while True:
            evs = self.events.get(room, [])
            start = 0
            if after:
                ids = [e["event_id"] for e in evs]
                start = ids.index(after) + 1 if after in ids else len(evs)
            for e in evs[start:]:
                if e["sender"] != sender or (type and e["type"] != type):
                    continue
                if rx and not rx.search(json.dumps(e["content"], ensure_ascii=False) if type == "m.reaction" else e["content"].get("body", "")):
                    continue
                return e
            if time.monotonic() > end:
                seen = [(e["type"], e["class"], e["content"].get("body", "")[:60]) for e in evs[start:]]
                raise RuntimeError(f"no event from {sender} matching {pattern} in {room}; seen {seen}")
            await asyncio.sleep(0.05)

    async def raw_event(self, room, event_id):
        """The event as the server stores it (to prove it went out encrypted)."""
        path = f"/_matrix/client/v3/rooms/{urllib.parse.quote(room)}/event/{urllib.parse.quote(event_id)}"
        return await self.get_json(path)

    async def get_json(self, path):
        async with aiohttp.ClientSession() as s:
            async with s.get(self.client.homeserver + path, headers={"Authorization": f"Bearer {self.client.access_token}"}) as r:
                return await r.json()

    async def download_file(self, content):
        """Download and decrypt an m.file's encrypted attachment; returns the text."""
        f = content["file"]
        server, media = f["url"][len("mxc://"):].split("/", 1)
        url = f"{self.client.homeserver}/_matrix/client/v1/media/download/{server}/{media}"
        async with aiohttp.ClientSession() as s:
            async with s.get(url, headers={"Authorization": f"Bearer {self.client.access_token}"}) as r:
                data = await r.read()
        plain = decrypt_attachment(data, f["key"]["k"], f["hashes"]["sha256"], f["iv"])
        return {"text": plain.decode("utf-8"), "ciphertext_is_plain": data == plain}

    async def devices(self):
        resp = await self.client.devices()
        return {"devices": [d.id for d in resp.devices]}

    async def user_devices(self, user):
        """Our client's view of another user's devices, with trust as cross-signing sees it."""
        body = {"device_keys": {user: []}}
        async with aiohttp.ClientSession() as s:
            async with s.post(self.client.homeserver + "/_matrix/client/v3/keys/query", json=body,
                              headers={"Authorization": f"Bearer {self.client.access_token}"}) as r:
                q = await r.json()
        return {"device_keys": sorted(q.get("device_keys", {}).get(user, {}).keys()),
                "master_keys": user in q.get("master_keys", {}),
                "self_signing_keys": q.get("self_signing_keys", {}).get(user),
                "devices_signatures": {d: sorted(v.get("signatures", {}).get(user, {}).keys())
                                       for d, v in q.get("device_keys", {}).get(user, {}).items()}}

    async def close(self):
        if self.sync_task:
            self.sync_task.cancel()
        if self.client:
            await self.client.close()
        return {}


async def main():
    d = Driver()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            break
        msg = json.loads(line)
        rid, op, args = msg.get("id"), msg["op"], msg.get("args", {})
        try:
            result = await getattr(d, op)(**args)
            out = {"id": rid, "ok": True, "result": result}
        except Exception as e:  # the test shows the error; the driver keeps serving
            out = {"id": rid, "ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if op == "close":
            break


if __name__ == "__main__":
    asyncio.run(main())
