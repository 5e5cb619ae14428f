"""The Python Autobahn side of wspeer's interop tests (see ../scenario.go).

    /usr/bin/python3 peer.py server <on|off>        prints "listening <port>"
    /usr/bin/python3 peer.py client <url> <on|off>  one connection, then exits

on: permessage-deflate offered (client) and accepted (server).

Both echo every message with its type and obey the "cmd:" commands; every
close prints a JSON line {"event": "close", "code": c, "reason": r}.
Needs Debian's python3-autobahn and python3-twisted.
"""
import json
import sys

from autobahn.twisted.websocket import (
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketServerFactory,
    WebSocketServerProtocol,
    connectWS,
)
from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateOfferAccept,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from twisted.internet import reactor

BUDGET = 64 << 20
CLIENT_PROTOCOLS = ["x-unknown", "echo.v2", "echo.v1"]
SERVER_PROTOCOLS = ["echo.v1", "echo.v2"]


def report(code, reason):
    line = {"event": "close", "code": -1 if code is None else code, "reason": reason or ""}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


class Agent:
    pings = 0
    protocol = ""

    def onPing(self, payload):
        self.pings += 1
        self.sendPong(payload)

    def onPong(self, payload):
        if payload == b"hi":
            self.sendMessage(b"pong:ok")

    def onMessage(self, payload, isBinary):
        cmd = b"" if isBinary else payload
        if not cmd.startswith(b"cmd:"):
            self.sendMessage(payload, isBinary)
        elif cmd == b"cmd:hello":
            hello = {"protocol": self.protocol or "", "extensions": self.extensions(), "pings": self.pings}
            self.sendMessage(json.dumps(hello).encode())
        elif cmd == b"cmd:ping":
            self.sendPing(b"hi")
        elif cmd.startswith(b"cmd:burst:"):
            for i in range(int(cmd[len(b"cmd:burst:"):])):
                self.sendMessage(b"burst-%04d" % i)
        elif cmd == b"cmd:close":
            self.sendClose(code=4000, reason="bye ✓")
        else:
            self.sendMessage(b"unknown command " + cmd)

    def extensions(self):
        return ", ".join(e.EXTENSION_NAME for e in self.websocket_extensions_in_use)


class ServerAgent(Agent, WebSocketServerProtocol):
    def onConnect(self, request):
        for p in request.protocols:
            if p in SERVER_PROTOCOLS:
                self.protocol = p
                return p
        return None

    def onClose(self, wasClean, code, reason):
        report(code, reason)


class ClientAgent(Agent, WebSocketClientProtocol):
    def onConnect(self, response):
        self.protocol = response.protocol

    def onClose(self, wasClean, code, reason):
        report(code, reason)
        reactor.stop()


def accept_offer(offers):
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


def accept_response(response):
    if isinstance(response, PerMessageDeflateResponse):
        return PerMessageDeflateResponseAccept(response)
    return None


def options(factory, deflate):
    if deflate and isinstance(factory, WebSocketServerFactory):
        factory.setProtocolOptions(perMessageCompressionAccept=accept_offer)
    elif deflate:
        factory.setProtocolOptions(
            perMessageCompressionOffers=[PerMessageDeflateOffer()],
            perMessageCompressionAccept=accept_response,
        )
    factory.setProtocolOptions(
        maxMessagePayloadSize=BUDGET,
        maxFramePayloadSize=BUDGET,
        autoPingInterval=0,
        openHandshakeTimeout=10,
        closeHandshakeTimeout=5,
    )
    return factory


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "server":
        factory = options(WebSocketServerFactory(), sys.argv[2] == "on")
        factory.protocol = ServerAgent
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        sys.stdout.write("listening %d\n" % port.getHost().port)
        sys.stdout.flush()
    elif mode == "client":
        factory = WebSocketClientFactory(sys.argv[2], protocols=CLIENT_PROTOCOLS)
        factory = options(factory, sys.argv[3] == "on")
        factory.protocol = ClientAgent
        connectWS(factory)
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)
    reactor.run()


if __name__ == "__main__":
    main()
