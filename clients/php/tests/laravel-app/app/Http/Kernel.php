<?php

namespace App\Http;

use Illuminate\Foundation\Http\Kernel as HttpKernel;

class Kernel extends HttpKernel
{
    /** Trust the load balancer in front of the app, so $request->ip() is the end user's address. */
    protected $middleware = [];

    protected $middlewareGroups = ['web' => []];
}
