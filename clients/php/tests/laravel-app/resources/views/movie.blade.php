<!doctype html>
<title>Movie {{ $id }}</title>
<h1>Movie {{ $id }}</h1>
@tallyBeacon($userId)
