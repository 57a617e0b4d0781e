#!/usr/bin/python3
"""Stand-ins for a desktop session's tray host and notification server, on the session bus.

- org.kde.StatusNotifierWatcher: accepts RegisterStatusNotifierItem/Host and says a host is
  registered, so the app's tray (libayatana-appindicator) exports its StatusNotifierItem and
  dbusmenu; each registered item is appended to ITEMS_FILE as a JSON line {"bus", "path"}.
- org.freedesktop.Notifications: logs every Notify call to NOTIFY_FILE as a JSON line
  {"app", "summary", "body"} and answers like a real server.

Usage: standin.py ITEMS_FILE NOTIFY_FILE   (runs until killed). Needs python3-dbus, python3-gi.
"""
import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

WATCHER = "org.kde.StatusNotifierWatcher"
NOTIFY = "org.freedesktop.Notifications"


class Watcher(dbus.service.Object):
    def __init__(self, bus, items_file):
        super().__init__(bus, "/StatusNotifierWatcher")
        self.items = []
        self.items_file = items_file

    @dbus.service.method(WATCHER, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        # appindicator passes its object path; others pass a bus name.
        bus, path = (sender, service) if service.startswith("/") else (service, "/StatusNotifierItem")
        self.items.append(f"{bus}{path}")
        with open(self.items_file, "a") as f:
            f.write(json.dumps({"bus": bus, "path": path}) + "\n")
        self.StatusNotifierItemRegistered(f"{bus}{path}")

    @dbus.service.method(WATCHER, in_signature="s", out_signature="")
    def RegisterStatusNotifierHost(self, service):
        pass

    @dbus.service.signal(WATCHER, signature="s")
    def StatusNotifierItemRegistered(self, service):
        pass

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        return self.GetAll(iface)[prop]

    @dbus.service.method(dbus.PROPERTIES_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }


class Notifications(dbus.service.Object):
    def __init__(self, bus, log_file):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.log_file = log_file
        self.next_id = 1

    @dbus.service.method(NOTIFY, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        with open(self.log_file, "a") as f:
            f.write(json.dumps({"app": str(app), "summary": str(summary), "body": str(body)}) + "\n")
        self.next_id += 1
        return dbus.UInt32(self.next_id - 1)

    @dbus.service.method(NOTIFY, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return dbus.Array(["body"], signature="s")

    @dbus.service.method(NOTIFY, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("vmbar-standin", "vmbar", "1", "1.2")

    @dbus.service.method(NOTIFY, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        pass


def main():
    items_file, notify_file = sys.argv[1], sys.argv[2]
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    # Keep the BusName objects referenced, or the names are released at once.
    names = [dbus.service.BusName(WATCHER, bus), dbus.service.BusName(NOTIFY, bus)]
    objs = [Watcher(bus, items_file), Notifications(bus, notify_file)]
    print("standin ready", flush=True)
    GLib.MainLoop().run()
    del names, objs


if __name__ == "__main__":
    main()
