<?php

namespace App\Http;

use Illuminate\Foundation\Http\Kernel as HttpKernel;

class Kernel extends HttpKernel
{
    // None: page.php sets REMOTE_ADDR to the end user's address. A real app behind a load balancer
    // lists TrustProxies here, or $request->ip() (what Tally forwards) is the balancer's address.
    protected $middleware = [];

    protected $middlewareGroups = ['web' => []];
}
