"""The Dash cockpit and the `cockpit` command line."""
