"""Small pure helpers every layer may use: bounded JSON text (``jsontext``) and UTC time formats (``timefmt``)."""
