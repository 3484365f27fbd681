from . import osmp
