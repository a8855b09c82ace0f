Console.WriteLine("kwarm");
