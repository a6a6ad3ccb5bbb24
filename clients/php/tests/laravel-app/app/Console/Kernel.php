<?php

namespace App\Console;

use Illuminate\Console\Scheduling\Schedule;
use Illuminate\Foundation\Console\Kernel as ConsoleKernel;

class Kernel extends ConsoleKernel
{
    protected function commands(): void
    {
        require base_path('routes/console.php');
    }

    protected function schedule(Schedule $schedule): void
    {
        // As in clients/php/README.md: spooled events go out within a minute of Tally coming back.
        $schedule->command('tally:resend')->everyMinute()->withoutOverlapping();
    }
}
