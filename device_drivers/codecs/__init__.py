"""GATT codecs: pure functions between characteristic bytes and frozen GATT-level values.

Every decoder takes the raw payload (``bytes``) and raises
:class:`device_drivers.errors.DecodeError` for anything malformed; every encoder is its
byte-exact inverse (the simulator uses the encoders). See ``registry`` for lookup by UUID.
"""
