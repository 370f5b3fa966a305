"""Offline voice-driven information kiosk for people with dystonia."""
