module cut_short (input a, output y);
    assign y = a;
